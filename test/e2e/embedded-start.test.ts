// `npm start` as a user runs it: embedded PostgreSQL in a fresh data dir, migrations, the API, a clean Ctrl-C,
// and a second start on the same data dir that finds everything already migrated.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { startProcess } from '../support/process.js';

describe('npm start (embedded mode)', () => {
  let dataDir = '';
  afterAll(async () => {
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('starts the embedded database, migrates it, serves /health, stops on SIGINT and keeps the data', async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'specfleet-start-'));
    const { chmod } = await import('node:fs/promises');
    await chmod(dataDir, 0o755);
    const env = { SPECFLEET_DATA_DIR: dataDir, HTTP_PORT: '0', EMBEDDED_PG_PORT: '0', MQTT_PORT: '0', MQTT_WS_PORT: '0', SIM_VEHICLES: '0', DATABASE_URL: '' };

    const first = startProcess('apps/specfleet/src/main.ts', env);
    const [, port] = await first.waitFor(/API\s+http:\/\/[^:]+:(\d+)/, 90_000);
    expect(first.output()).toMatch(/database\s+embedded PostgreSQL .* — PostgreSQL \d+\.\d+, [1-9]\d* new migrations/);
    // Where an operator points psql or Grafana (SPEC §6): the embedded server's URL, and it answers.
    const [, psqlUrl] = first.output().match(/psql (postgres:\/\/\S+)/) ?? [];
    expect(psqlUrl).toMatch(/^postgres:\/\/[^@]+@127\.0\.0\.1:\d+\/specfleet$/);
    const pg = await import('pg');
    const client = new pg.default.Client({ connectionString: psqlUrl });
    await client.connect();
    expect((await client.query<{ n: number }>('SELECT count(*)::int AS n FROM tenants')).rows[0]!.n).toBeGreaterThanOrEqual(1);
    await client.end();
    const live = await fetch(`http://127.0.0.1:${port}/health/live`);
    expect(live.status).toBe(200);
    expect(await live.json()).toEqual({ status: 'ok' });
    const ready = await fetch(`http://127.0.0.1:${port}/health/ready`);
    expect(ready.status).toBe(200);
    expect(((await ready.json()) as { checks: Record<string, string> }).checks.database).toBe('ok');
    first.child.kill('SIGINT');
    expect(await first.exited).toBe(0);
    expect(first.output()).toContain('"msg":"stopped"');

    const second = startProcess('apps/specfleet/src/main.ts', env);
    await second.waitFor(/API\s+http:\/\/[^:]+:(\d+)/, 90_000);
    expect(second.output()).toMatch(/, 0 new migrations/);
    second.child.kill('SIGINT');
    expect(await second.exited).toBe(0);
  });

  // README's own `apt-get install mosquitto` starts a broker on 1883: the message must name the variable to change.
  it('refuses a port already in use with one line naming the variable, not a stack trace', { timeout: 120_000 }, async () => {
    const { createServer } = await import('node:net');
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '0.0.0.0', resolve));
    const port = (holder.address() as { port: number }).port;
    const busyDir = await mkdtemp(join(tmpdir(), 'specfleet-busy-'));
    const { chmod } = await import('node:fs/promises');
    await chmod(busyDir, 0o755);
    try {
      const env = { SPECFLEET_DATA_DIR: busyDir, HTTP_PORT: '0', EMBEDDED_PG_PORT: '0', MQTT_PORT: String(port), MQTT_WS_PORT: '0', SIM_VEHICLES: '0', DATABASE_URL: '' };
      const run = startProcess('apps/specfleet/src/main.ts', env);
      expect(await run.exited, run.output().slice(-2000)).toBe(78);
      expect(run.output()).toContain(`specfleet: MQTT_PORT: 0.0.0.0:${port} is already in use`);
      expect(run.output()).not.toMatch(/\n\s+at /);
    } finally {
      holder.close();
      await rm(busyDir, { recursive: true, force: true });
    }
  });

  // A terminal's Ctrl-C goes to the whole process group: the embedded PostgreSQL stops at once, while the drain still
  // wants to commit what the simulated fleet sent last. The process must end anyway (SHUTDOWN_TIMEOUT_S), not hang.
  it('ends on a Ctrl-C to its whole process group, embedded database included, while a fleet publishes', { timeout: 150_000 }, async () => {
    const groupDir = await mkdtemp(join(tmpdir(), 'specfleet-ctrlc-'));
    const { chmod } = await import('node:fs/promises');
    await chmod(groupDir, 0o755);
    try {
      const env = {
        SPECFLEET_DATA_DIR: groupDir,
        HTTP_PORT: '0',
        EMBEDDED_PG_PORT: '0',
        MQTT_PORT: '0',
        MQTT_WS_PORT: '0',
        SIM_VEHICLES: '20',
        SIM_SPEED: '20',
        SHUTDOWN_TIMEOUT_S: '5',
        DATABASE_URL: '',
      };
      const run = startProcess('apps/specfleet/src/main.ts', env, [], { detached: true });
      await run.waitFor(/API\s+http:\/\/[^:]+:(\d+)/, 90_000);
      await new Promise((resolve) => setTimeout(resolve, 3_000)); // vehicles connected and publishing
      process.kill(-run.child.pid!, 'SIGINT');
      const code = await Promise.race([run.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 60_000))]);
      if (code === 'still running') process.kill(-run.child.pid!, 'SIGKILL');
      expect(code, run.output().slice(-2000)).not.toBe('still running');
      expect(run.output()).toMatch(/"msg":"stopped"|did not finish in SHUTDOWN_TIMEOUT_S/);
    } finally {
      await rm(groupDir, { recursive: true, force: true });
    }
  });
});
