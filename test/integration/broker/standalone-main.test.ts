// apps/broker/src/main.ts, the standalone broker of distributed mode, as a real process: credentials from the
// registry in DATABASE_URL (exit 78 without it), the durable persistence chosen by MQTT_PERSISTENCE=auto, and a
// graceful SIGTERM that leaves the queued messages of a persistent session for the next start.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ServiceAccountRepository, TenantRepository, VehicleRepository } from '../../../libs/db/src/index.js';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import { closeTrackedClients, connackCode, connectClient, rawClient, waitFor } from './harness.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest();

interface MainProcess {
  child: ChildProcess;
  url: string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout: () => string;
  stderr: () => string;
}

function startMain(env: Record<string, string>): { child: ChildProcess; exit: MainProcess['exit']; stdout: () => string; stderr: () => string } {
  const base = { ...process.env };
  delete base.DATABASE_URL;
  delete base.MQTT_PERSISTENCE;
  const child = spawn(process.execPath, ['--import', './scripts/register.mjs', 'apps/broker/src/main.ts'], {
    cwd: ROOT,
    env: { ...base, MQTT_HOST: '127.0.0.1', MQTT_PORT: '0', MQTT_WS_PORT: '0', BROKER_METRICS_PORT: '0', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exit, stdout: () => stdout, stderr: () => stderr };
}

function startWorker(env: Record<string, string>): { child: ChildProcess; exit: MainProcess['exit']; stdout: () => string } {
  const base = { ...process.env };
  for (const key of Object.keys(base)) if (key.startsWith('INGEST_')) delete base[key];
  const child = spawn(process.execPath, ['--import', './scripts/register.mjs', 'apps/ingestion/src/main.ts'], {
    cwd: ROOT,
    env: { ...base, LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let stdout = '';
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  return { child, exit, stdout: () => stdout };
}

async function startListening(env: Record<string, string>): Promise<MainProcess> {
  const started = startMain(env);
  let port: number | undefined;
  await waitFor(
    () => {
      const line = started.stdout().split('\n').find((l) => l.includes('"broker_listening"'));
      if (line) port = (JSON.parse(line) as { tcp: number }).tcp;
      return port !== undefined || started.child.exitCode !== null;
    },
    30_000,
    'broker_listening',
  );
  if (port === undefined) throw new Error(`broker exited: ${started.stdout()} ${started.stderr()}`);
  const listening = JSON.parse(started.stdout().split('\n').find((l) => l.includes('"broker_listening"'))!) as { persistence: string };
  expect(listening.persistence).toBe('level'); // MQTT_PERSISTENCE=auto in the standalone broker
  return { child: started.child, url: `mqtt://127.0.0.1:${port}`, exit: started.exit, stdout: started.stdout, stderr: started.stderr };
}

it('exits 78 with a clear message when DATABASE_URL is missing', async () => {
  const started = startMain({});
  expect((await started.exit).code).toBe(78);
  expect(started.stderr()).toMatch(/DATABASE_URL is required/);
}, 30_000);

describeEachBackend('standalone broker (apps/broker/src/main.ts)', (backend) => {
  let database: TestDatabase;
  let dir: string;
  const vehicleSecret = randomBytes(32).toString('base64url');
  const workerSecret = randomBytes(32).toString('base64url');
  const running = new Set<ChildProcess>();

  beforeAll(async () => {
    database = await createTestDatabase(backend);
    dir = await mkdtemp(join(tmpdir(), 'specfleet-broker-main-'));
    await new TenantRepository(database.db).upsert({ id: 'tenant-a', name: 'Tenant A' });
    const vehicles = new VehicleRepository(database.db);
    await vehicles.create({ id: 'SZ-SAN-0001', tenantId: 'tenant-a', type: 'sanitation', bodyType: 'sweeper', powertrain: 'bev', secretDigest: digest(vehicleSecret) });
    await vehicles.create({ id: 'SZ-SAN-0002', tenantId: 'tenant-a', type: 'sanitation', bodyType: 'sweeper', powertrain: 'bev', secretDigest: null });
    await new ServiceAccountRepository(database.db).upsert('ingest', digest(workerSecret));
  });
  afterAll(async () => {
    await closeTrackedClients();
    for (const child of running) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await database?.drop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('authenticates against the registry and keeps a persistent session’s queue across a SIGTERM restart', async () => {
    const env = { DATABASE_URL: database.url, MQTT_PERSISTENCE_DIR: dir };
    const first = await startListening(env);
    running.add(first.child);

    expect(await connackCode(first, { clientId: 'SZ-SAN-0001', username: 'SZ-SAN-0001', password: vehicleSecret })).toBe(0);
    expect(await connackCode(first, { clientId: 'SZ-SAN-0001', username: 'SZ-SAN-0001', password: workerSecret })).toBe(4);
    expect(await connackCode(first, { clientId: 'SZ-SAN-0002', username: 'SZ-SAN-0002', password: vehicleSecret })).toBe(4); // no secret issued
    expect(await connackCode(first, { clientId: 'NOPE', username: 'NOPE', password: vehicleSecret })).toBe(4);

    const workerOptions = { clientId: 'ingest:1', username: 'ingest', password: workerSecret, clean: false } as const;
    const worker = await connectClient(first, workerOptions);
    await worker.subscribeAsync({ 'fleet/+/telemetry': { qos: 1 } });
    await worker.endAsync();
    const vehicle = await connectClient(first, { clientId: 'SZ-SAN-0001', username: 'SZ-SAN-0001', password: vehicleSecret });
    await vehicle.publishAsync('fleet/SZ-SAN-0001/telemetry', '{"v":1,"ts":"2026-11-26T08:00:00Z","seq":1}', { qos: 1 });
    await vehicle.endAsync();

    // Prometheus can scrape the standalone broker: its refusals and publishes are counted at GET /metrics.
    const metricsLine = /"event":"metrics_listening","port":(\d+)/;
    await waitFor(() => metricsLine.test(first.stdout()), 10_000, 'metrics_listening');
    const metricsPort = Number(metricsLine.exec(first.stdout())?.[1]);
    const scrape = await fetch(`http://127.0.0.1:${metricsPort}/metrics`).then((r) => r.text());
    expect(scrape).toMatch(/specfleet_broker_refusals_total\{[^}]*\} [1-9]/);
    expect(scrape).toMatch(/specfleet_broker_publishes_received_total\{[^}]*channel="telemetry"[^}]*\} 1/);

    first.child.kill('SIGTERM');
    expect(await first.exit).toEqual({ code: 0, signal: null });

    const second = await startListening(env);
    running.add(second.child);
    const received: string[] = [];
    const back = rawClient(second.url, workerOptions);
    back.on('message', (_topic, payload) => received.push(payload.toString()));
    await waitFor(() => received.length === 1, 10_000, 'the queued message');
    expect(JSON.parse(received[0]!)).toMatchObject({ seq: 1 });
    back.end(true);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
  }, 90_000);

  // The ingestion worker (apps/ingestion/src/main.ts) against this broker, as docker-compose.yml runs them. This broker
  // has no shared subscriptions: a worker left on the default $share group must stop at once and say what to set (it
  // used to log and run on, subscribed to nothing, while the broker acknowledged what vehicles published); with
  // INGEST_SHARED_GROUP=none and the default client id ({INGEST_MQTT_USERNAME}:1) it stores what a vehicle publishes.
  it('runs the ingestion worker with its default client id; a refused $share subscription stops it with advice', async () => {
    const brokerDir = await mkdtemp(join(tmpdir(), 'specfleet-broker-worker-'));
    const broker = await startListening({ DATABASE_URL: database.url, MQTT_PERSISTENCE_DIR: brokerDir });
    running.add(broker.child);
    const workerEnv = { DATABASE_URL: database.url, INGEST_MQTT_URL: broker.url, INGEST_MQTT_USERNAME: 'ingest', INGEST_MQTT_PASSWORD: workerSecret, INGEST_METRICS_PORT: '0' };
    try {
      const shared = startWorker(workerEnv);
      running.add(shared.child);
      expect((await shared.exit).code).toBe(1);
      expect(shared.stdout()).toMatch(/refused the subscription to \$share\/ingest\/fleet\/\+\/telemetry.*INGEST_SHARED_GROUP=none/);

      const plain = startWorker({ ...workerEnv, INGEST_SHARED_GROUP: 'none' });
      running.add(plain.child);
      await waitFor(() => plain.stdout().includes('"ingestion_started"'), 30_000, 'worker subscribed');
      expect(plain.stdout()).toMatch(/"event":"ingestion_started","clientId":"ingest:1","group":null/);
      const vehicle = await connectClient(broker, { clientId: 'SZ-SAN-0001', username: 'SZ-SAN-0001', password: vehicleSecret });
      await vehicle.publishAsync('fleet/SZ-SAN-0001/telemetry', JSON.stringify({ v: 1, ts: new Date(Date.now() - 60_000).toISOString(), seq: 77 }), { qos: 1 });
      await vehicle.endAsync();
      const stored = async () => (await database.db.selectFrom('telemetry').select('seq').where('vehicle_id', '=', 'SZ-SAN-0001').where('seq', '=', 77).execute()).length;
      const deadline = Date.now() + 15_000;
      while ((await stored()) === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      expect(await stored()).toBe(1);
      plain.child.kill('SIGTERM');
      await plain.exit;
    } finally {
      broker.child.kill('SIGTERM');
      await broker.exit;
      await rm(brokerDir, { recursive: true, force: true });
    }
  }, 120_000);
});
