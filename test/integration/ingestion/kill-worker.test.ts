// Issue 4 "kill -9 of the ingestion process (distributed mode) in the middle of a QoS 1 stream, restart: every message
// the broker had acknowledged to the publisher is stored, none twice" — with the real worker process
// (apps/ingestion/src/main.ts), a real Mosquitto 2 and a real database, on both backends.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import { eventually, MOSQUITTO_BIN, provisionVehicles, sample, startMosquitto } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));

function startWorker(env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', './scripts/register.mjs', 'apps/ingestion/src/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, LOG_LEVEL: 'warn', INGEST_METRICS_PORT: '0', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

describeEachBackend('kill -9 of an ingestion worker mid-stream', (backend) => {
  let test: TestDatabase;
  let broker: Awaited<ReturnType<typeof startMosquitto>> | undefined;
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    if (!MOSQUITTO_BIN) return;
    test = await createTestDatabase(backend);
    await provisionVehicles(test.db, ['V-K1', 'V-K2']);
    broker = await startMosquitto();
  });
  afterAll(async () => {
    for (const w of workers) if (w.exitCode === null) w.kill('SIGKILL');
    await broker?.stop();
    await test?.drop();
  });

  it.skipIf(!MOSQUITTO_BIN)('loses no acknowledged message and stores none twice', { timeout: 90_000 }, async () => {
    const env = { DATABASE_URL: test.url, INGEST_MQTT_URL: broker!.url, INGEST_CLIENT_ID: `kill-${backend.kind}`, INGEST_SHARED_GROUP: 'ingest' };
    const count = async () =>
      Number((await test.db.selectFrom('telemetry').select((eb) => eb.fn.countAll<number>().as('n')).where('vehicle_id', 'in', ['V-K1', 'V-K2']).executeTakeFirstOrThrow()).n);

    workers.push(startWorker(env));
    const pub = await mqtt.connectAsync(broker!.url, { clientId: `pub-kill-${backend.kind}` });
    const t0 = Date.now() - 1_800_000;
    // Until the worker has subscribed, the broker has no session to keep messages for: probe until one is stored.
    let probe = 0;
    await eventually(async () => {
      await pub.publishAsync('fleet/V-PROBE/telemetry', JSON.stringify(sample({ tsMs: t0, seq: probe++ })), { qos: 1 });
      return (await test.db.selectFrom('telemetry').select('seq').where('vehicle_id', '=', 'V-PROBE').execute()).length > 0;
    }, 30_000, 'worker subscribed');

    let acked = 0;
    const N = 3_000;
    const publishing = (async () => {
      for (let i = 0; i < N; i += 50) {
        await Promise.all(
          Array.from({ length: 50 }, (_, k) =>
            pub.publishAsync(`fleet/V-K${((i + k) % 2) + 1}/telemetry`, JSON.stringify(sample({ tsMs: t0 + (i + k) * 100, seq: i + k, traction: (i + k) / 10 })), { qos: 1 }).then(() => acked++),
          ),
        );
        await new Promise((r) => setTimeout(r, 5));
      }
    })();
    await eventually(async () => (await count()) > 300, 20_000, 'worker storing');
    workers[0]!.kill('SIGKILL');
    await new Promise((r) => setTimeout(r, 500));
    workers.push(startWorker(env));
    await publishing;
    await pub.endAsync();
    expect(acked).toBe(N);
    await eventually(async () => (await count()) >= N, 45_000, 'every acknowledged message stored');
    expect(await count()).toBe(N); // the primary key makes a second copy impossible; this checks none is missing
    const state = await test.db.selectFrom('vehicle_state').select(['vehicle_id', 'last_seq']).orderBy('vehicle_id').execute();
    expect(state.map((s) => s.last_seq)).toEqual([N - 2, N - 1]);
  });
});
