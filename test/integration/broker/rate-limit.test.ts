// SPEC §4.7 per-client publish rate: over the rate a client is slowed down (its publishes wait for tokens, none is
// dropped); a flood whose wait would exceed publishMaxDelayMs is disconnected and counted.
import { afterEach, describe, expect, it } from 'vitest';
import { closeTrackedClients, connectClient, sleep, startBroker, type TestBroker } from './harness.js';
import { publishPacket, rawLogin } from './raw-mqtt.js';

describe('broker: per-client publish rate', () => {
  let broker: TestBroker | undefined;
  afterEach(async () => {
    await closeTrackedClients();
    await broker?.stop();
  });

  it('throttles a burst beyond the bucket without losing anything', async () => {
    broker = await startBroker({ publishRate: 20, publishBurst: 2, publishMaxDelayMs: 5_000 });
    const secret = broker.credentials.addVehicle('V1');
    const client = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret });
    const started = Date.now();
    await Promise.all(Array.from({ length: 10 }, (_, seq) => client.publishAsync('fleet/V1/telemetry', JSON.stringify({ seq }), { qos: 1 })));
    // 2 from the bucket, 8 more at 20/s: at least ~400 ms, however fast the machine
    expect(Date.now() - started).toBeGreaterThanOrEqual(350);
    expect(broker.ingest.committed).toHaveLength(10);
    expect(client.connected).toBe(true);
  });

  it('disconnects a flood and counts it; a client within the rate is untouched', async () => {
    broker = await startBroker({ publishRate: 10, publishBurst: 5, publishMaxDelayMs: 200 });
    const secret = broker.credentials.addVehicle('V1');
    broker.credentials.addVehicle('V2', secret);

    const polite = await connectClient(broker, { clientId: 'V2', username: 'V2', password: secret });
    const flood = await rawLogin(broker.port, 'V1', secret);
    flood.socket.write(Buffer.concat(Array.from({ length: 50 }, (_, i) => publishPacket('fleet/V1/telemetry', JSON.stringify({ seq: i }), 1, i + 1))));
    await Promise.race([flood.closed, sleep(5_000)]);
    expect(flood.isClosed()).toBe(true);
    expect(broker.ingest.payloads('V1').length).toBeLessThan(50);

    for (let seq = 0; seq < 3; seq++) await polite.publishAsync('fleet/V2/telemetry', JSON.stringify({ seq }), { qos: 1 });
    expect(broker.ingest.payloads('V2')).toHaveLength(3);
    const limited = (await broker.service.metrics.refusals.get()).values.find((v) => v.labels.reason === 'rate_limited');
    expect(limited?.value).toBeGreaterThanOrEqual(1);
  });
});
