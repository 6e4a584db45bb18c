// authorizePublish never throws into aedes and calls it back exactly once, also when the IngestSink throws
// synchronously instead of rejecting — on the rate-delayed path (a setTimeout, outside the hook's own try) too.
import type { Client, PublishPacket } from 'aedes';
import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { BrokerRefusal, ClientSessions } from '../client-sessions.js';
import type { TokenBucket } from '../limits/token-bucket.js';
import { BrokerMetrics } from '../metrics.js';
import { createAuthorizePublishHook } from './authorize-publish.hook.js';

const INGEST_TIMEOUT_MS = 300;

function setUp(delayMs: number) {
  const sessions = new ClientSessions();
  const client = { id: 'V1', closed: false } as unknown as Client;
  const bucket = { take: () => delayMs } as unknown as TokenBucket;
  sessions.set(client, { principal: { kind: 'vehicle', id: 'V1', tenantId: 't' }, bucket, hadWill: false, keepaliveTimedOut: false });
  const metrics = new BrokerMetrics();
  const hook = createAuthorizePublishHook({
    options: { publishMaxDelayMs: 1_000, ingestTimeoutMs: INGEST_TIMEOUT_MS },
    ingest: {
      ingest: () => {
        throw new Error('sink bug');
      },
    },
    sessions,
    metrics,
    logger: pino({ level: 'silent' }),
    inflight: { add: () => undefined },
  });
  const calls: Array<Error | null | undefined> = [];
  const packet = { cmd: 'publish', topic: 'fleet/V1/telemetry', payload: Buffer.from('{}'), qos: 1, retain: false, dup: false, messageId: 1 } as PublishPacket;
  const refusals = async (): Promise<Record<string, number>> =>
    Object.fromEntries((await metrics.refusals.get()).values.map((v) => [String(v.labels.reason), v.value]));
  return { run: () => hook(client, packet, (error) => calls.push(error)), calls, refusals };
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('authorizePublish with a sink that throws', () => {
  it.each([
    { path: 'rate-delayed', delayMs: 20 },
    { path: 'immediate', delayMs: 0 },
  ])('$path: refuses the publish once (no PUBACK), counts it, and nothing escapes — not even after the deadline', async ({ delayMs }) => {
    const { run, calls, refusals } = setUp(delayMs);
    expect(run).not.toThrow();
    // Refused as soon as the sink throws, not only when the commit deadline expires (a throw that escaped the timer
    // leaves only the deadline to call back)...
    await sleep(delayMs + 50);
    expect(calls).toHaveLength(1);
    expect(calls[0]).toBeInstanceOf(BrokerRefusal);
    // ...and the deadline, once past, does not call back a second time.
    await sleep(INGEST_TIMEOUT_MS * 2);
    expect(calls).toHaveLength(1);
    expect(await refusals()).toEqual({ ingest_failed: 1 });
  });
});
