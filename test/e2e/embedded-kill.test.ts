// SPEC §4.1 in embedded mode: the broker PUBACKs a QoS 1 telemetry message only after ingestion committed it, so
// `kill -9` of the whole process in the middle of a stream loses nothing the publisher saw acknowledged.
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { TenantRepository, VehicleRepository } from '@fleet/db';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../setup/database.js';
import { startProcess } from '../support/process.js';

const VEHICLE = 'E2E-KILL-0001';

describeEachBackend('kill -9 of the embedded process during a QoS 1 stream', (backend) => {
  let database: TestDatabase;
  let dataDir = '';
  const secret = randomBytes(32).toString('base64url');

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'specfleet-e2e-kill-'));
    database = await createTestDatabase(backend);
    await new TenantRepository(database.db).upsert({ id: 'e2e', name: 'e2e' });
    await new VehicleRepository(database.db).create({
      id: VEHICLE,
      tenantId: 'e2e',
      type: 'delivery_van',
      bodyType: 'none',
      powertrain: 'bev',
      secretDigest: createHash('sha256').update(secret).digest(),
    });
  });
  afterAll(async () => {
    await database?.drop();
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  const env = (): Record<string, string> => ({
    DATABASE_URL: database.url,
    HTTP_PORT: '0',
    MQTT_PORT: '0',
    MQTT_WS_PORT: '0',
    SIM_VEHICLES: '0',
    SPECFLEET_DATA_DIR: dataDir,
    LOG_LEVEL: 'warn',
  });

  it('keeps every acknowledged sample, each once', async () => {
    const first = startProcess('apps/specfleet/src/main.ts', env());
    const [, port] = await first.waitFor(/MQTT\s+mqtt:\/\/[^:]+:(\d+)/, 90_000);

    const client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      clientId: VEHICLE,
      username: VEHICLE,
      password: secret,
      reconnectPeriod: 0,
    });
    client.on('error', () => undefined); // the broker vanishes mid-stream: that is the point
    const acked: number[] = [];
    let sent = 0;
    const start = Date.now();
    // Publish at QoS 1 with up to 20 in flight; after ~400 acknowledgements, kill the process.
    await new Promise<void>((resolve) => {
      let killed = false;
      const pump = (): void => {
        while (!killed && sent - acked.length < 20 && sent < 100_000) {
          const seq = sent++;
          const payload = JSON.stringify({ v: 1, ts: start + seq, seq, position: { lat: 31.69, lon: 113.38, speed_kmh: 20 } });
          client.publish(`fleet/${VEHICLE}/telemetry`, payload, { qos: 1 }, (error) => {
            if (error || killed) return;
            acked.push(seq);
            if (acked.length >= 400) {
              killed = true;
              first.child.kill('SIGKILL');
              resolve();
            } else pump();
          });
        }
      };
      pump();
      client.once('close', () => resolve());
    });
    expect(await first.exited).toBe('SIGKILL');
    client.end(true);
    expect(acked.length).toBeGreaterThanOrEqual(400);
    expect(sent).toBeGreaterThan(acked.length); // the kill came with messages still unacknowledged in flight

    // A restart on the same database: nothing acknowledged went missing, nothing was stored twice.
    const second = startProcess('apps/specfleet/src/main.ts', env());
    await second.waitFor(/MQTT\s+mqtt:\/\/[^:]+:(\d+)/, 90_000);
    const rows = await database.db.selectFrom('telemetry').select('seq').where('vehicle_id', '=', VEHICLE).execute();
    const stored = new Set(rows.map((r) => r.seq));
    expect(rows.length).toBe(stored.size);
    const missing = acked.filter((seq) => !stored.has(seq));
    expect(missing).toEqual([]);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });
});
