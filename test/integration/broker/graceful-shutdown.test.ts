// Graceful shutdown: stop accepting, stop reading, let in-flight commits finish so their PUBACKs go out, then close;
// a commit that outlives shutdownGraceMs is not acknowledged (the client resends it to the next broker).
import { afterEach, describe, expect, it } from 'vitest';
import { closeTrackedClients, connackCode, connectClient, sleep, startBroker, type TestBroker, waitFor } from './harness.js';

describe('broker: graceful shutdown', () => {
  let broker: TestBroker | undefined;
  afterEach(async () => {
    await closeTrackedClients();
    await broker?.stop();
  });

  it('acknowledges what commits during the drain, refuses new connections, then closes', async () => {
    broker = await startBroker({ shutdownGraceMs: 5_000 });
    const secret = broker.credentials.addVehicle('V1');
    const client = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret });
    broker.ingest.mode = 'hold';
    let acked = false;
    client.publish('fleet/V1/telemetry', '{"seq":1}', { qos: 1 }, (err) => {
      if (!err) acked = true;
    });
    await waitFor(() => broker!.ingest.held.length === 1, 5_000, 'pending commit');

    let stopped = false;
    const stopping = broker.stop().then(() => (stopped = true));
    await sleep(100);
    expect(stopped).toBe(false); // waiting for the commit
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: secret })).toMatch(/ECONNREFUSED|closed/);

    broker.ingest.held[0]!.resolve();
    await stopping;
    expect(acked).toBe(true);
    await waitFor(() => !client.connected, 2_000, 'client closed');
    expect(broker.logs.find((l) => l.event === 'broker_stopped')).toMatchObject({ pendingCommits: 1, drained: true });
  });

  it('gives up on a commit after shutdownGraceMs without acknowledging it', async () => {
    broker = await startBroker({ shutdownGraceMs: 200 });
    const secret = broker.credentials.addVehicle('V1');
    const client = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret });
    broker.ingest.mode = 'hold';
    let acked = false;
    client.publish('fleet/V1/telemetry', '{"seq":1}', { qos: 1 }, (err) => {
      if (!err) acked = true;
    });
    await waitFor(() => broker!.ingest.held.length === 1, 5_000, 'pending commit');
    await broker.stop();
    await waitFor(() => !client.connected, 2_000, 'client closed');
    broker.ingest.held[0]!.resolve(); // too late: the connection is gone, no PUBACK can follow
    await sleep(50);
    expect(acked).toBe(false);
    expect(broker.logs.find((l) => l.event === 'broker_stopped')).toMatchObject({ pendingCommits: 1, drained: false });
  });
});
