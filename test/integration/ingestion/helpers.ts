// Helpers of the ingestion integration tests: registry rows, payload builders, and a pipeline tuned for tests.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import mqtt from 'mqtt';
import pino from 'pino';
import type { DB } from '@fleet/db';
import { IngestionPipeline, type IngestionPipelineOptions, type IngestMessage } from '../../../apps/ingestion/src/pipeline/ingestion-pipeline.js';

export const quietLogger = pino({ level: 'silent' });

let tenantSeq = 0;

/** A tenant and registered vehicles (so vehicle_state rows can exist). */
export async function provisionVehicles(db: Kysely<DB>, ids: readonly string[]): Promise<void> {
  const tenant = `t-${process.pid}-${++tenantSeq}-${Math.random().toString(36).slice(2, 8)}`;
  await db.insertInto('tenants').values({ id: tenant, name: tenant }).execute();
  await db
    .insertInto('vehicles')
    .values(ids.map((id) => ({ id, tenant_id: tenant, type: 'road_sweeper', body_type: 'sweeper', powertrain: 'bev' })))
    .execute();
}

export function testPipeline(db: Kysely<DB>, options: IngestionPipelineOptions = {}): IngestionPipeline {
  return new IngestionPipeline(db, { maxDelayMs: 2, logger: quietLogger, ...options });
}

export function message(vehicleId: string, channel: string, payload: unknown, receivedAt = new Date()): IngestMessage {
  const bytes = payload instanceof Uint8Array ? payload : Buffer.from(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return { vehicleId, channel, topic: `fleet/${vehicleId}/${channel}`, payload: bytes, receivedAt };
}

export interface SampleInput {
  tsMs: number;
  seq: number;
  traction?: number | null;
  odometer?: number | null;
  extra?: Record<string, unknown>;
}

export function sample({ tsMs, seq, traction, odometer, extra }: SampleInput): Record<string, unknown> {
  return {
    v: 1,
    ts: new Date(tsMs).toISOString(),
    seq,
    ...(odometer != null ? { odometer_km: odometer } : {}),
    ...(traction != null ? { energy: { traction_kwh: traction } } : {}),
    ...extra,
  };
}

/** Resolves `promise` or fails after `ms` (tests are bounded in time). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what}: not done within ${ms} ms`)), ms);
    }),
  ]);
}

/**
 * A TCP proxy in front of the database, to take it away and bring it back: `cut()` refuses new connections and drops
 * the open ones (what a stopped or unreachable server looks like to the pool), `restore()` accepts again.
 */
export class DatabaseOutageProxy {
  private server: import('node:net').Server | undefined;
  private readonly sockets = new Set<import('node:net').Socket>();
  port = 0;

  constructor(
    private readonly targetHost: string,
    private readonly targetPort: number,
  ) {}

  async start(): Promise<void> {
    const net = await import('node:net');
    const server = net.createServer((client) => {
      const upstream = net.connect(this.targetPort, this.targetHost);
      for (const s of [client, upstream]) {
        this.sockets.add(s);
        s.on('close', () => this.sockets.delete(s));
        s.on('error', () => undefined);
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => server.listen(this.port, '127.0.0.1', resolve));
    this.port = (server.address() as import('node:net').AddressInfo).port;
    this.server = server;
  }

  /** The database "goes down". */
  async cut(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The database "comes back" on the same address. */
  async restore(): Promise<void> {
    if (!this.server) await this.start();
  }

  /** `url` with host and port replaced by the proxy's. */
  urlFor(url: string): string {
    const u = new URL(url);
    u.hostname = '127.0.0.1';
    u.port = String(this.port);
    return u.toString();
  }

  async stop(): Promise<void> {
    await this.cut();
  }
}

/** Polls `check` until it returns true or `ms` pass. */
export async function eventually(check: () => Promise<boolean> | boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what}: not within ${ms} ms`);
}

// SPECFLEET_TEST_MOSQUITTO_BIN first (what .ci/run exports, from infra/mosquitto.sh bin), then the usual paths.
export const MOSQUITTO_BIN = [process.env['SPECFLEET_TEST_MOSQUITTO_BIN'], '/usr/sbin/mosquitto', '/usr/local/sbin/mosquitto', '/usr/bin/mosquitto'].find((p): p is string => !!p && existsSync(p));
// The kill -9 test of a distributed worker and the $share test need it: on a laptop without Mosquitto they are skipped
// (and say so), but in CI a missing broker must fail the run, not shrink it.
if (!MOSQUITTO_BIN && process.env['CI']) {
  throw new Error('CI: mosquitto not found (SPECFLEET_TEST_MOSQUITTO_BIN, /usr/sbin/mosquitto, …): .ci/run installs it with infra/mosquitto.sh');
}

/**
 * A throwaway Mosquitto 2 on a free port. `max_inflight_messages 0` (unlimited): workers hold PUBACKs until their
 * batch commits, so the default window of 20 would cap a worker at 20 messages per commit.
 */
export async function startMosquitto(): Promise<{ url: string; stop(): Promise<void> }> {
  if (!MOSQUITTO_BIN) throw new Error('mosquitto not installed (infra/mosquitto.sh install)');
  const dir = await mkdtemp(join(tmpdir(), 'specfleet-mosq-'));
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const port = (probe.address() as { port: number }).port;
  await new Promise((r) => probe.close(r));
  await writeFile(join(dir, 'mosquitto.conf'), `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_inflight_messages 0\nmax_queued_messages 1000000\n`);
  const broker = spawn(MOSQUITTO_BIN, ['-c', join(dir, 'mosquitto.conf')], { stdio: 'ignore' });
  const url = `mqtt://127.0.0.1:${port}`;
  await eventually(async () => {
    try {
      const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 500 });
      await c.endAsync();
      return true;
    } catch {
      return false;
    }
  }, 10_000, 'mosquitto up');
  return {
    url,
    stop: async () => {
      broker.kill('SIGTERM');
      await rm(dir, { recursive: true, force: true });
    },
  };
}
