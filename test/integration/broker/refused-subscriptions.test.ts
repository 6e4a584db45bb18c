// SPEC §3 / §4.7: a refused SUBSCRIBE filter answers 0x80 and is stored nowhere, also for a persistent session
// (clean: false), where aedes 1.2 persists the whole SUBSCRIBE packet as soon as one filter is granted. Otherwise a
// vehicle subscribing `fleet/#` next to its own command topic got a copy of every fleet message queued for it, with
// nothing to drain the queue (memory in embedded mode, LevelDB in distributed mode).
// Refused filters are logged once per SUBSCRIBE packet with a count, and a connection that keeps sending them is
// closed, so one packet of thousands of filters is not thousands of log lines.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerPersistenceKind } from '../../../apps/broker/src/broker.options.js';
import { MAX_REFUSED_FILTERS } from '../../../apps/broker/src/hooks/authorize-subscribe.hook.js';
import { closeTrackedClients, connectClient, endAll, sleep, startBroker, subscribeGranted, type TestBroker, waitFor } from './harness.js';

/** The aedes persistence under the broker (memory or level): what a subscription leaves behind. */
interface PersistenceView {
  subscriptionsByTopic(topic: string): Promise<Array<{ clientId: string; topic: string }>>;
  subscriptionsByClient(client: { id: string }): Promise<Array<{ topic: string }> | null>;
  outgoingStream(client: { id: string }): AsyncIterable<{ topic: string }>;
}

function persistenceOf(broker: TestBroker): PersistenceView {
  return (broker.service as unknown as { aedes: { persistence: PersistenceView } }).aedes.persistence;
}

async function queuedFor(persistence: PersistenceView, clientId: string): Promise<string[]> {
  const topics: string[] = [];
  for await (const packet of persistence.outgoingStream({ id: clientId })) topics.push(packet.topic);
  return topics;
}

describe('broker: refused subscriptions are not stored', () => {
  let broker: TestBroker | undefined;
  let dir: string | undefined;

  afterEach(async () => {
    await closeTrackedClients();
    await broker?.stop();
    broker = undefined;
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it.each<{ persistence: BrokerPersistenceKind }>([{ persistence: 'memory' }, { persistence: 'level' }])(
    '$persistence persistence: a clean:false vehicle keeps only its own command filter, and nothing else is queued for it',
    async ({ persistence }) => {
      dir = persistence === 'level' ? await mkdtemp(join(tmpdir(), 'specfleet-subs-')) : undefined;
      broker = await startBroker({ persistence, persistenceDir: dir ?? null });
      const s1 = broker.credentials.addVehicle('V1');
      const s2 = broker.credentials.addVehicle('V2');

      const v1 = await connectClient(broker, { clientId: 'V1', username: 'V1', password: s1, clean: false });
      const granted = await subscribeGranted(v1, { 'fleet/V1/cmd': 1, 'fleet/#': 1, '#': 1, 'fleet/+/telemetry': 1, 'fleet/V2/cmd': 1 });
      expect(granted).toEqual({ 'fleet/V1/cmd': 1, 'fleet/#': 128, '#': 128, 'fleet/+/telemetry': 128, 'fleet/V2/cmd': 128 });
      expect(v1.connected).toBe(true);

      const store = persistenceOf(broker);
      expect((await store.subscriptionsByClient({ id: 'V1' }))?.map((s) => s.topic)).toEqual(['fleet/V1/cmd']);
      expect((await store.subscriptionsByTopic('fleet/V2/telemetry')).filter((s) => s.clientId === 'V1')).toEqual([]);
      expect((await store.subscriptionsByTopic('fleet/V2/cmd')).filter((s) => s.clientId === 'V1')).toEqual([]);

      // Another vehicle's traffic is queued for no one; V1's own command still reaches it.
      const v2 = await connectClient(broker, { clientId: 'V2', username: 'V2', password: s2 });
      await v2.publishAsync('fleet/V2/telemetry', '{"v":1,"ts":0,"seq":1}', { qos: 1 });
      await broker.service.publishCommand('V2', Buffer.from('{}'));
      expect(await queuedFor(store, 'V1')).toEqual([]);
      const got: string[] = [];
      v1.on('message', (topic) => got.push(topic));
      await broker.service.publishCommand('V1', Buffer.from('{}'));
      await waitFor(() => got.length === 1, 5_000, 'own command');
      expect(got).toEqual(['fleet/V1/cmd']);
      await endAll(v1, v2);
    },
  );

  const refusals = async (b: TestBroker): Promise<Record<string, number>> =>
    Object.fromEntries((await b.service.metrics.refusals.get()).values.map((v) => [String(v.labels.reason), v.value]));

  it('logs the refused filters of one SUBSCRIBE in one line with their count, and keeps the connection', async () => {
    broker = await startBroker();
    const s1 = broker.credentials.addVehicle('V1');
    const v1 = await connectClient(broker, { clientId: 'V1', username: 'V1', password: s1 });
    const filters = { 'fleet/V1/cmd': 1, '#': 1, 'fleet/V2/cmd': 1, 'fleet/+/cmd': 1, '$SYS/#': 0, 'fleet/V1/telemetry': 1 } as const;
    const granted = await subscribeGranted(v1, filters);
    expect(Object.values(granted).filter((g) => g === 128)).toHaveLength(5);
    await sleep(50);
    const lines = broker.logs.filter((l) => l.event === 'subscribe_denied');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ clientId: 'V1', refused: 5, filters: ['#', 'fleet/V2/cmd', 'fleet/+/cmd', '$SYS/#', 'fleet/V1/telemetry'] });
    expect(lines[0]!.closing).toBeUndefined();
    expect(await refusals(broker)).toEqual({ subscribe_denied: 5 });
    expect(v1.connected).toBe(true);
    await endAll(v1);
  });

  it(`one SUBSCRIBE with 5,000 refused filters writes one log line and closes the connection (over ${MAX_REFUSED_FILTERS})`, async () => {
    broker = await startBroker();
    const s1 = broker.credentials.addVehicle('V1');
    const v1 = await connectClient(broker, { clientId: 'V1', username: 'V1', password: s1 });
    const closed = new Promise<boolean>((resolve) => v1.once('close', () => resolve(true)));
    const filters = Object.fromEntries(Array.from({ length: 5_000 }, (_, i) => [`fleet/X${i}/cmd`, { qos: 1 as const }]));
    v1.subscribe(filters, () => undefined);
    expect(await Promise.race([closed, sleep(5_000).then(() => false)])).toBe(true);
    await sleep(50);
    const lines = broker.logs.filter((l) => l.event === 'subscribe_denied');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ clientId: 'V1', refused: 5_000, closing: true, reasons: ['foreign_topic'] });
    expect(lines[0]!.filters).toHaveLength(5);
    expect(broker.logs.filter((l) => l.level === 40 || l.level === 50).map((l) => l.event)).toEqual(['subscribe_denied']);
    expect(await refusals(broker)).toEqual({ subscribe_denied: 5_000 });
    // A fresh connection starts from zero and may subscribe to its own commands.
    const again = await connectClient(broker, { clientId: 'V1', username: 'V1', password: s1 });
    expect(await subscribeGranted(again, { 'fleet/V1/cmd': 1 })).toEqual({ 'fleet/V1/cmd': 1 });
    await endAll(v1, again);
  });
});
