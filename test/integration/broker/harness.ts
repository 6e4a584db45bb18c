// Shared set-up of the broker integration tests: a real BrokerService on ephemeral ports, wired to in-memory test
// doubles of its ports (credentials seeded with digests, a recording ingest sink whose commits the test controls).
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Writable } from 'node:stream';
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { pino, type Logger } from 'pino';
import { type BrokerOptions } from '../../../apps/broker/src/broker.options.js';
import { BrokerService } from '../../../apps/broker/src/broker.service.js';
import type { ConnectivitySink, CredentialStore, DisconnectReason, IngestMessage, IngestSink } from '../../../apps/broker/src/ports.js';

export const digest = (secret: string): Buffer => createHash('sha256').update(secret).digest();
export const newSecret = (): string => randomBytes(32).toString('base64url');

export class InMemoryCredentialStore implements CredentialStore {
  readonly vehicles = new Map<string, { tenantId: string; secretDigest: Buffer }>();
  readonly services = new Map<string, { secretDigest: Buffer }>();
  lookups = 0;

  addVehicle(id: string, secret = newSecret(), tenantId = 'tenant-a'): string {
    this.vehicles.set(id, { tenantId, secretDigest: digest(secret) });
    return secret;
  }

  addServiceAccount(id: string, secret = newSecret()): string {
    this.services.set(id, { secretDigest: digest(secret) });
    return secret;
  }

  async findVehicle(id: string) {
    this.lookups++;
    return this.vehicles.get(id);
  }

  async findServiceAccount(id: string) {
    this.lookups++;
    return this.services.get(id);
  }
}

type Pending = { message: IngestMessage; resolve: () => void; reject: (error: Error) => void };

/** Records committed messages. `mode` decides what a new ingest does: commit, fail, or wait for the test. */
export class RecordingIngestSink implements IngestSink {
  readonly committed: IngestMessage[] = [];
  readonly attempts: IngestMessage[] = [];
  readonly held: Pending[] = [];
  mode: 'commit' | 'reject' | 'hold' = 'commit';

  ingest(message: IngestMessage): Promise<void> {
    this.attempts.push(message);
    if (this.mode === 'reject') return Promise.reject(new Error('database unavailable'));
    if (this.mode === 'commit') {
      this.committed.push(message);
      return Promise.resolve();
    }
    return new Promise((resolve, reject) => {
      this.held.push({
        message,
        resolve: () => {
          this.committed.push(message);
          resolve();
        },
        reject,
      });
    });
  }

  payloads(vehicleId?: string): string[] {
    return this.committed.filter((m) => vehicleId === undefined || m.vehicleId === vehicleId).map((m) => m.payload.toString());
  }
}

export class RecordingConnectivitySink implements ConnectivitySink {
  readonly events: Array<
    | { kind: 'connected'; vehicleId: string }
    | { kind: 'disconnected'; vehicleId: string; reason: DisconnectReason }
    | { kind: 'status'; vehicleId: string; payload: string }
  > = [];

  connected(vehicleId: string): void {
    this.events.push({ kind: 'connected', vehicleId });
  }

  disconnected(vehicleId: string, _at: Date, reason: DisconnectReason): void {
    this.events.push({ kind: 'disconnected', vehicleId, reason });
  }

  status(vehicleId: string, payload: Buffer): void {
    this.events.push({ kind: 'status', vehicleId, payload: payload.toString() });
  }
}

export interface TestBroker {
  service: BrokerService;
  port: number;
  wsPort: number | null;
  url: string;
  credentials: InMemoryCredentialStore;
  ingest: RecordingIngestSink;
  connectivity: RecordingConnectivitySink;
  /** Every log line the broker wrote, as parsed JSON (and the raw text, to check no secret leaks). */
  logs: Array<Record<string, unknown>>;
  rawLogs: string[];
  stop(): Promise<void>;
}

export async function startBroker(options: Partial<BrokerOptions> = {}): Promise<TestBroker> {
  const credentials = new InMemoryCredentialStore();
  const ingest = new RecordingIngestSink();
  const connectivity = new RecordingConnectivitySink();
  const logs: Array<Record<string, unknown>> = [];
  const rawLogs: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, cb) {
      const text = chunk.toString();
      rawLogs.push(text);
      for (const line of text.split('\n')) if (line.trim()) logs.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  const logger: Logger = pino({ level: 'debug', base: { service: 'broker' } }, sink);
  const service = new BrokerService({
    options: { host: '127.0.0.1', port: 0, wsPort: 0, shutdownGraceMs: 2_000, ...options },
    credentials,
    ingest,
    connectivity,
    logger,
  });
  const { tcp, ws } = await service.start();
  return { service, port: tcp, wsPort: ws, url: `mqtt://127.0.0.1:${tcp}`, credentials, ingest, connectivity, logs, rawLogs, stop: () => service.stop() };
}

const openClients = new Set<MqttClient>();

/** Remembers a client so afterEach can close it even when the test failed half-way. */
export function track<T extends MqttClient>(client: T): T {
  openClients.add(client);
  return client;
}

/** Force-closes every client created through this harness (call from afterEach, before stopping the broker). */
export async function closeTrackedClients(): Promise<void> {
  const clients = [...openClients];
  openClients.clear();
  await endAll(...clients);
}

/** A stock MQTT.js client with test-friendly defaults: no automatic reconnect, short timeouts. */
export function connectClient(broker: { url: string }, opts: IClientOptions): Promise<MqttClient> {
  return mqtt.connectAsync(broker.url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, keepalive: 30, ...opts }).then(track);
}

/** Like mqtt.connect (events, no promise), tracked for clean-up. */
export function rawClient(url: string, opts: IClientOptions): MqttClient {
  return track(mqtt.connect(url, { protocolVersion: 4, reconnectPeriod: 0, connectTimeout: 5_000, ...opts }));
}

/** Connects and resolves with the CONNACK return code (0 = accepted) or the socket error, never hangs. */
export function connackCode(broker: { url: string }, opts: IClientOptions): Promise<number | string> {
  return new Promise((resolve) => {
    const client = rawClient(broker.url, opts);
    const done = (code: number | string): void => {
      client.end(true);
      resolve(code);
    };
    client.once('connect', () => done(0));
    client.once('error', (err: Error & { code?: number | string }) => done(err.code ?? err.message));
    client.once('close', () => setTimeout(() => done('closed'), 50));
  });
}

export async function endAll(...clients: Array<MqttClient | undefined>): Promise<void> {
  await Promise.all(clients.map((c) => (c ? c.endAsync(true).catch(() => undefined) : undefined)));
}

export function waitFor(predicate: () => boolean, timeoutMs = 5_000, what = 'condition'): Promise<void> {
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const tick = (): void => {
      if (predicate()) return resolve();
      if (Date.now() - started > timeoutMs) return reject(new Error(`timed out waiting for ${what}`));
      setTimeout(tick, 10);
    };
    tick();
  });
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Runs a CLI with a hard time limit; resolves with its exit code and output. */
export function run(cmd: string, args: string[], timeoutMs = 10_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Subscribes and returns the granted QoS per filter from the SUBACK, 0x80 (128) included (MQTT.js rejects on it). */
export async function subscribeGranted(client: MqttClient, filters: Record<string, 0 | 1 | 2>): Promise<Record<string, number>> {
  const topics = Object.keys(filters);
  const packet = await client
    .subscribeAsync(Object.fromEntries(topics.map((t) => [t, { qos: filters[t]! }])))
    .then(
      (granted) => ({ granted: granted.map((g) => g.qos) }),
      (error: { packet?: { granted?: number[] } }) => {
        if (!error.packet?.granted) throw error;
        return { granted: error.packet.granted };
      },
    );
  return Object.fromEntries(topics.map((t, i) => [t, packet.granted[i]!]));
}

/** The TCP port a broker in a child process reports over IPC once it listens (broker-process.ts and the like). */
export function childBrokerPort(child: ChildProcess): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('broker process did not start')), 30_000);
    child.once('message', (m: { tcp: number }) => {
      clearTimeout(timer);
      resolve(m.tcp);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`broker process exited with ${code}`));
    });
  });
}
