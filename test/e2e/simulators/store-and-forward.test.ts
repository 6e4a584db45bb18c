// Issue 6 end to end: simulated vehicles, provisioned through the API, publish to the embedded stack; the broker goes
// away for 30 s of simulated time (the whole stack stops: broker, ingestion, API) and comes back on the same port and
// database; the firmware's store-and-forward buffer carries the outage, so the stored `seq` of each vehicle has no gap
// and no repeat from the first sample to the last.
//
// Time: the fleet runs at 10× with a sample every 2 s of simulated time, so the 30 s simulated outage is ~3 s of wall
// clock and ~15 samples per vehicle wait in the buffer. Simulated time starts 10 min in the past so every ts stays
// behind the server's clock (the accepted window ends at now + 5 min).
import { afterAll, beforeAll, expect, it } from 'vitest';
import { fleetDefinition, type FleetHandle, provisionVehicles, startFleet } from '../../../simulators/src/index.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import { apiClient, freePort, seedTenant, sleep, type Stack, startTestStack, type TenantKeys } from '../support/stack.js';

const SPEED = 10;
const REPORT_INTERVAL_S = 2;
const OUTAGE_SIM_MS = 30_000;

async function until(what: string, timeoutMs: number, check: () => boolean | Promise<boolean>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

describeEachBackend('store-and-forward of the simulated firmware across a broker outage (embedded stack)', (backend) => {
  let database: TestDatabase;
  let keys: TenantKeys;
  let port: number;
  let stack: Stack | undefined;
  let fleet: FleetHandle | undefined;

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    keys = await seedTenant(database, 'acme');
  });
  afterAll(async () => {
    await fleet?.stop();
    await stack?.stop();
    await database?.drop();
  });

  const storedSeqs = async (): Promise<Map<string, number[]>> => {
    const rows = await database.db.selectFrom('telemetry').select(['vehicle_id', 'seq']).orderBy('vehicle_id').orderBy('seq').execute();
    const out = new Map<string, number[]>();
    for (const r of rows) out.set(r.vehicle_id, [...(out.get(r.vehicle_id) ?? []), r.seq]);
    return out;
  };

  it('stores every sample exactly once: no gap in seq after the broker was down for 30 s of simulated time', { timeout: 90_000 }, async () => {
    // The broker must come back where the vehicles look for it: a fixed port, free a moment ago.
    port = await freePort();
    stack = await startTestStack(database, { MQTT_PORT: String(port) });
    const api = apiClient(stack.httpPort);

    const vehicles = fleetDefinition('saf-e2e', undefined, 'sweeper:bev=1,bus:fcev=1', { idPrefix: 'SAF' });
    const credentials = await provisionVehicles(vehicles, { apiUrl: api.url, adminKey: keys.admin, reportIntervalS: REPORT_INTERVAL_S });
    expect(Object.keys(credentials).sort()).toEqual(vehicles.map((v) => v.id).sort());
    const listed = await api.get<{ items: Array<{ id: string }> }>('/api/v1/vehicles', keys.operator);
    expect(listed.items.map((v) => v.id).sort()).toEqual(vehicles.map((v) => v.id).sort());

    fleet = startFleet({
      url: `mqtt://127.0.0.1:${port}`,
      seed: 'saf-e2e',
      vehicles,
      credentials,
      speed: SPEED,
      reportIntervalS: REPORT_INTERVAL_S,
      startMs: Math.floor((Date.now() - 10 * 60_000) / 1000) * 1000,
      tickMs: 50,
      connectSpreadMs: 0,
      backoff: { initialMs: 100, maxMs: 800 },
    });
    const running = fleet;

    // Stored before the outage (every vehicle connected and at least 5 samples in the database).
    await until('samples stored before the outage', 20_000, async () => {
      const seqs = await storedSeqs();
      return vehicles.every((v) => (seqs.get(v.id)?.length ?? 0) >= 5);
    });

    // The broker goes away: the stack stops (in-flight commits finish and are acknowledged, the sockets close).
    const downAtSim = Date.parse(running.stats().simTime);
    await stack.stop();
    stack = undefined;
    await until('the fleet to notice the outage', 5_000, () => running.stats().connected === 0);
    const maxBefore = new Map([...(await storedSeqs())].map(([id, seqs]) => [id, Math.max(...seqs)]));
    // …and stays away for 30 s of simulated time, while the vehicles keep sampling into their buffers.
    await until('30 s of simulated time', 10_000, () => Date.parse(running.stats().simTime) - downAtSim >= OUTAGE_SIM_MS);
    const during = running.stats();
    expect(during.connected).toBe(0);
    expect(during.failedConnects).toBeGreaterThan(0); // they kept trying with backoff
    // 30 s / 2 s = 15 samples per vehicle at least (minus the few acknowledged before the sockets closed).
    expect(during.buffered).toBeGreaterThanOrEqual(vehicles.length * 10);

    // The broker comes back: a new stack on the same database and the same port.
    const upAtReal = Date.now();
    stack = await startTestStack(database, { MQTT_PORT: String(port) });
    expect(stack.mqttPort).toBe(port);
    const upAtSim = Date.parse(running.stats().simTime);
    expect(upAtSim - downAtSim).toBeGreaterThanOrEqual(OUTAGE_SIM_MS);
    await until('reconnect and flush of the backlog', 15_000, () => {
      const s = running.stats();
      return s.connected === vehicles.length && s.buffered === 0;
    });
    // A few more live samples after the flush, then the vehicles are switched off (they drain before going offline).
    await until('live samples after the outage', 15_000, async () => {
      const seqs = await storedSeqs();
      return vehicles.every((v) => Math.max(...(seqs.get(v.id) ?? [-1])) >= (maxBefore.get(v.id) ?? 0) + 20);
    });
    const final = await running.stop();
    fleet = undefined;
    expect(final.dropped).toBe(0);
    expect(final.buffered).toBe(0);
    expect(final.samplesAcked).toBeGreaterThanOrEqual(final.samplesGenerated); // re-sends after a lost PUBACK count twice

    // No gap, no repeat: each vehicle's stored seq runs from its first (0) to its last, every one once.
    const seqs = await storedSeqs();
    let total = 0;
    for (const v of vehicles) {
      const got = seqs.get(v.id) ?? [];
      const last = got[got.length - 1] as number;
      expect(got, v.id).toEqual([...Array(last + 1).keys()]);
      expect(last, v.id).toBeGreaterThan((maxBefore.get(v.id) ?? 0) + 15);
      total += got.length;
    }
    expect(total).toBe(final.samplesGenerated); // everything the vehicles sampled is stored

    // The outage is in the data: samples stamped while the broker was down, received only after it came back.
    const heldBack = await database.db
      .selectFrom('telemetry')
      .select(['vehicle_id', (eb) => eb.fn.countAll<string>().as('n')])
      .where('ts', '>', new Date(downAtSim + 2_000))
      .where('ts', '<', new Date(downAtSim + OUTAGE_SIM_MS))
      .where('received_at', '>=', new Date(upAtReal))
      .groupBy('vehicle_id')
      .execute();
    for (const v of vehicles) {
      // 28 s of the outage / 2 s = 14 samples, give or take one at either end.
      expect(Number(heldBack.find((r) => r.vehicle_id === v.id)?.n ?? 0), v.id).toBeGreaterThanOrEqual(12);
    }
    expect(await database.db.selectFrom('dead_letters').select(['reason', 'detail']).execute()).toEqual([]);
  });
});
