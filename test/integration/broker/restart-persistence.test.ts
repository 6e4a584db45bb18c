// Distributed mode, SPEC §4 guarantee 1: a QoS 1 message the broker PUBACKed for a vehicle, while the ingestion
// worker's persistent session was offline, survives `kill -9` of the broker and reaches the worker when it comes
// back — together with the session's subscription, which the worker does not renew. The same run on the in-memory
// persistence loses them all, which shows the test can fail.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { childBrokerPort, closeTrackedClients, connectClient, rawClient, sleep, waitFor } from './harness.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const N = 200;
const VEHICLE = 'SZ-SAN-0001';
const WORKER = 'ingest';
const WORKER_CLIENT_ID = 'ingest:restart-test';
const secret = randomBytes(32).toString('hex');

interface BrokerChild {
  child: ChildProcess;
  url: string;
  exited: Promise<unknown>;
}

const children = new Set<ChildProcess>();

async function startBrokerProcess(persistence: 'memory' | 'level', dir: string, slowDiskMs = 0): Promise<BrokerChild> {
  const child = spawn(process.execPath, ['--import', './scripts/register.mjs', 'test/integration/broker/durable-broker-process.ts'], {
    cwd: ROOT,
    env: {
      ...process.env,
      SPECFLEET_TEST_VEHICLES: `${VEHICLE}:${secret}`,
      SPECFLEET_TEST_SERVICES: `${WORKER}:${secret}`,
      SPECFLEET_TEST_PERSISTENCE: persistence,
      SPECFLEET_TEST_PERSISTENCE_DIR: dir,
      SPECFLEET_TEST_SLOW_DISK_MS: String(slowDiskMs),
    },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  children.add(child);
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const port = await childBrokerPort(child);
  return { child, url: `mqtt://127.0.0.1:${port}`, exited };
}

async function kill9(broker: BrokerChild): Promise<void> {
  broker.child.kill('SIGKILL');
  await broker.exited;
  expect(broker.child.signalCode).toBe('SIGKILL');
}

const workerOptions = { clientId: WORKER_CLIENT_ID, username: WORKER, password: secret, clean: false } as const;

/** The ingestion worker's first visit: persistent session, QoS 1 subscription, then it goes away (cleanly). */
async function workerSubscribesAndLeaves(url: string): Promise<void> {
  const worker = await connectClient({ url }, workerOptions);
  const granted = await worker.subscribeAsync({ 'fleet/+/telemetry': { qos: 1 } });
  expect(granted.map((g) => g.qos)).toEqual([1]);
  await worker.endAsync();
}

/** Publishes seq 0..N-1 at QoS 1 and returns the seqs the broker PUBACKed; `onLastAck` runs inside the last PUBACK. */
async function publishAcknowledged(url: string, onLastAck?: () => void): Promise<number[]> {
  const vehicle = await connectClient({ url }, { clientId: VEHICLE, username: VEHICLE, password: secret });
  const acked: number[] = [];
  await Promise.all(
    Array.from(
      { length: N },
      (_, seq) =>
        new Promise<void>((resolve, reject) => {
          vehicle.publish(`fleet/${VEHICLE}/telemetry`, JSON.stringify({ v: 1, ts: new Date().toISOString(), seq }), { qos: 1 }, (err) => {
            if (err) return reject(err);
            acked.push(seq);
            if (acked.length === N) onLastAck?.();
            resolve();
          });
        }),
    ),
  );
  vehicle.end(true);
  return acked.sort((a, b) => a - b);
}

/** The worker comes back on the same client id with clean: false, without subscribing again, and collects. */
async function workerReturns(url: string): Promise<{ worker: MqttClient; sessionPresent: boolean; received: Map<number, number> }> {
  const received = new Map<number, number>(); // seq → times delivered
  const worker = rawClient(url, workerOptions);
  worker.on('message', (topic, payload) => {
    if (topic !== `fleet/${VEHICLE}/telemetry`) return;
    const { seq } = JSON.parse(payload.toString()) as { seq: number };
    received.set(seq, (received.get(seq) ?? 0) + 1);
  });
  const sessionPresent = await new Promise<boolean>((resolve, reject) => {
    worker.once('connect', (connack) => resolve(connack.sessionPresent));
    worker.once('error', reject);
  });
  return { worker, sessionPresent, received };
}

describe('broker restart (distributed mode): QoS 1 messages queued for a persistent session', () => {
  let dir: string | undefined;
  afterEach(async () => {
    await closeTrackedClients();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.clear();
    if (dir) await rm(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it.each([
    { disk: 'a normal disk', slowDiskMs: 0 },
    // every LevelDB put 150 ms late, kill -9 inside the last PUBACK: only an enqueue *before* the PUBACK survives this
    { disk: 'a slow disk, killed at the last PUBACK', slowDiskMs: 150 },
  ])('level persistence, $disk: every acknowledged message reaches the worker after kill -9 and restart', async ({ slowDiskMs }) => {
    dir = await mkdtemp(join(tmpdir(), 'specfleet-broker-'));
    const first = await startBrokerProcess('level', dir, slowDiskMs);
    await workerSubscribesAndLeaves(first.url);

    const acked = await publishAcknowledged(first.url, slowDiskMs > 0 ? () => first.child.kill('SIGKILL') : undefined);
    expect(acked).toHaveLength(N);
    await kill9(first);

    const second = await startBrokerProcess('level', dir); // a normal disk again: delivery writes per message too
    const { worker, sessionPresent, received } = await workerReturns(second.url);
    expect(sessionPresent).toBe(true);
    await waitFor(() => acked.every((seq) => received.has(seq)), 20_000, 'every acknowledged message').catch((error: Error) => {
      const missing = acked.filter((seq) => !received.has(seq));
      throw new Error(`${error.message}: ${missing.length} of ${acked.length} acknowledged messages missing (${missing.slice(0, 10).join(', ')}…)`);
    });
    expect([...received.keys()].sort((a, b) => a - b)).toEqual(acked);

    // The subscription itself survived: a new message is routed to the worker without it subscribing again.
    const vehicle = await connectClient(second, { clientId: VEHICLE, username: VEHICLE, password: secret });
    await vehicle.publishAsync(`fleet/${VEHICLE}/telemetry`, JSON.stringify({ v: 1, ts: new Date().toISOString(), seq: N }), { qos: 1 });
    await waitFor(() => received.has(N), 5_000, 'a message published after the restart');
    expect(worker.connected).toBe(true);
  }, 90_000);

  it('control — memory persistence: the acknowledged messages and the subscription are gone after kill -9', async () => {
    dir = await mkdtemp(join(tmpdir(), 'specfleet-broker-'));
    const first = await startBrokerProcess('memory', dir);
    await workerSubscribesAndLeaves(first.url);
    const acked = await publishAcknowledged(first.url);
    expect(acked).toHaveLength(N);
    await kill9(first);

    const second = await startBrokerProcess('memory', dir);
    const { sessionPresent, received } = await workerReturns(second.url);
    await sleep(1_500); // the level run above delivers everything well within this
    expect(sessionPresent).toBe(false);
    expect(received.size).toBe(0);
  }, 60_000);
});
