// The smoke test of issue 6: `npm start` with 30 simulated vehicles on a fresh data dir — the API reports at least
// 25 online within two minutes, body energy is reported, and Ctrl-C stops everything cleanly.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startCompiled } from '../support/process.js';

interface FleetStatus {
  counts: { total: number; connectivity: { online: number; stale: number; offline: number } };
}
interface EnergyAnswer {
  items: Array<{ body_kwh: number; traction_kwh: number }>;
}

describe('npm start with a simulated fleet (smoke)', () => {
  let dataDir = '';
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('shows the fleet online with body energy, then stops cleanly', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'specfleet-smoke-'));
    await chmod(dataDir, 0o755);
    const run = startCompiled('apps/specfleet/src/main.ts', {
      SPECFLEET_DATA_DIR: dataDir,
      DATABASE_URL: '',
      HTTP_PORT: '0',
      EMBEDDED_PG_PORT: '0',
      MQTT_PORT: '0',
      MQTT_WS_PORT: '0',
      SIM_VEHICLES: '30',
      LOG_LEVEL: 'warn',
    });
    try {
      const [, port] = await run.waitFor(/API\s+http:\/\/[^:]+:(\d+)/, 90_000);
      const [, key] = await run.waitFor(/operator key (sfk_\S+)/, 1_000);
      const api = `http://127.0.0.1:${port}`;
      const get = async <T>(path: string): Promise<T> => {
        const response = await fetch(`${api}${path}`, { headers: { authorization: `Bearer ${key}` } });
        expect(response.status, `${path}: ${response.status}`).toBe(200);
        return (await response.json()) as T;
      };

      const deadline = Date.now() + 120_000;
      let online = 0;
      while (Date.now() < deadline) {
        online = (await get<FleetStatus>('/api/v1/fleet/status')).counts.connectivity.online;
        if (online >= 25) break;
        await new Promise((resolve) => setTimeout(resolve, 2_000));
      }
      expect(online).toBeGreaterThanOrEqual(25);

      // Body energy: some vehicles' upper bodies (sweeper brushes, reefer, compactor) have drawn energy by now.
      let bodyKwh = 0;
      while (Date.now() < deadline + 60_000) {
        const from = new Date(Date.now() - 3_600_000).toISOString();
        const to = new Date(Date.now() + 60_000).toISOString();
        const energy = await get<EnergyAnswer>(`/api/v1/energy?from=${from}&to=${to}&group_by=body_type`);
        bodyKwh = energy.items.reduce((sum, row) => sum + row.body_kwh, 0);
        if (bodyKwh > 0) break;
        await new Promise((resolve) => setTimeout(resolve, 3_000));
      }
      expect(bodyKwh).toBeGreaterThan(0);
    } finally {
      run.child.kill('SIGINT');
    }
    expect(await run.exited).toBe(0);
    expect(run.output()).not.toMatch(/"level":(50|60)/); // no error or fatal log on the way
  });
});
