// The load generator: a child process of the benchmark that drives MQTT vehicles (lean-mqtt.ts: a minimal QoS 1
// publisher, see there why not MQTT.js) against a broker and reports back over IPC. It runs apart from the broker
// under test so neither steals the other's event loop, and it measures its own CPU so a run can show the generator
// was not the bottleneck.
//
// Jobs (one per process):
//   ingest       N vehicles publish QoS 1 as fast as a per-vehicle window of unacknowledged messages allows
//   rate         N vehicles publish QoS 1 at a fixed total rate; latency publish → PUBACK from the scheduled time
//   connections  N vehicles connect (bounded concurrency), then each publishes one QoS 1 message per second
import type { TelemetrySample } from '@fleet/contracts';
import { sampleJsonWriter } from '../lib/fleet.js';
import { LeanPublisher, topicField } from '../lib/lean-mqtt.js';
import { nowMs, sleep } from '../lib/util.js';

export interface LoadVehicle {
  id: string;
  secret: string;
  template: TelemetrySample;
}

interface Base {
  port: number;
  vehicles: LoadVehicle[];
  /** Simultaneous CONNECTs in progress. */
  connectConcurrency: number;
  /** true: the broker authenticates (username = id, password = secret); false: anonymous (mosquitto baseline). */
  credentials: boolean;
}
export type LoadJob =
  | (Base & { kind: 'ingest'; durationMs: number; window: number })
  | (Base & { kind: 'rate'; durationMs: number; ratePerS: number; warmupMs: number; probes: number })
  | (Base & { kind: 'connections'; holdMs: number; intervalMs: number });

export interface ConnectReport {
  type: 'connected';
  connected: number;
  failed: number;
  connectMs: number[];
  wallMs: number;
}

export interface IngestReport {
  type: 'result';
  kind: 'ingest';
  startedAt: number;
  lastAckAt: number;
  published: number;
  acked: number;
  /** Per vehicle, the acknowledged seqs as [from, to] ranges. */
  ackedRanges: Record<string, Array<[number, number]>>;
  disconnects: number;
  cpuMs: number;
  wallMs: number;
}

export interface RateReport {
  type: 'result';
  kind: 'rate';
  published: number;
  acked: number;
  /** publish (scheduled) → PUBACK, ms, messages after the warm-up. */
  ackMs: number[];
  /** Probe vehicles: seq → scheduled publish time (epoch ms), after the warm-up. */
  probeSent: Record<string, Record<number, number>>;
  achievedRate: number;
  disconnects: number;
  cpuMs: number;
  wallMs: number;
}

export interface ConnectionsReport {
  type: 'result';
  kind: 'connections';
  published: number;
  acked: number;
  ackMs: number[];
  disconnects: number;
  cpuMs: number;
  wallMs: number;
}

export type LoadMessage = { type: 'progress'; text: string } | ConnectReport | IngestReport | RateReport | ConnectionsReport | { type: 'error'; message: string };

// Messages handed to the IPC channel and not yet written. The result of a `connections` run carries every
// acknowledgement time (hundreds of thousands of numbers): exiting before the channel has written it lost it under
// load ("load generator exited (0) without a result"), so the generator exits only once this is back to 0.
let unsent = 0;
const send = (m: LoadMessage): void => {
  if (!process.send) return;
  unsent++;
  process.send(m, () => {
    unsent--;
  });
};
/** Exits once every message to the parent is written (at most 30 s later: a parent that stopped reading). */
async function exitWhenSent(code: number): Promise<void> {
  const until = Date.now() + 30_000;
  while (unsent > 0 && Date.now() < until) await sleep(20);
  process.exit(code);
}
const cpuMs = (): number => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};

interface Conn {
  v: LoadVehicle;
  client: LeanPublisher;
  topic: Buffer;
  /** JSON of the vehicle's n-th sample (nthSample, stringified). */
  json: (seq: number, tsMs: number) => string;
  seq: number;
}

let disconnects = 0;
/** Set before the generator ends its own clients, so those closes are not counted as disconnects. */
let ending = false;

async function connectAll(job: LoadJob): Promise<Conn[]> {
  const started = nowMs();
  const conns: Conn[] = [];
  const connectMs: number[] = [];
  let failed = 0;
  let next = 0;
  const one = async (v: LoadVehicle): Promise<void> => {
    const t0 = nowMs();
    try {
      const client = await LeanPublisher.connect({
        host: '127.0.0.1',
        port: job.port,
        clientId: v.id,
        ...(job.credentials ? { username: v.id, password: v.secret } : {}),
        keepalive: 120,
        connectTimeoutMs: 60_000,
      });
      connectMs.push(nowMs() - t0);
      client.onClose = () => {
        if (!ending) disconnects++;
      };
      conns.push({ v, client, topic: topicField(`fleet/${v.id}/telemetry`), json: sampleJsonWriter(v.template), seq: 0 });
    } catch {
      failed++;
    }
  };
  const worker = async (): Promise<void> => {
    while (next < job.vehicles.length) await one(job.vehicles[next++]!);
  };
  const ticker = setInterval(() => send({ type: 'progress', text: `connecting ${conns.length + failed}/${job.vehicles.length}` }), 1_000);
  await Promise.all(Array.from({ length: Math.min(job.connectConcurrency, job.vehicles.length) }, worker));
  clearInterval(ticker);
  send({ type: 'connected', connected: conns.length, failed, connectMs, wallMs: nowMs() - started });
  return conns;
}

async function endAll(conns: Conn[]): Promise<void> {
  ending = true;
  await Promise.all(conns.map((c) => c.client.end()));
}

async function runIngest(job: Extract<LoadJob, { kind: 'ingest' }>): Promise<void> {
  const conns = await connectAll(job);
  const acked = new Map<string, number[]>();
  let published = 0;
  let ackCount = 0;
  let lastAckAt = 0;
  const cpu0 = cpuMs();
  const startedAt = nowMs();
  const stopAt = startedAt + job.durationMs;
  const inflight = (): number => conns.reduce((n, c) => n + c.client.unacknowledged, 0);
  // Each vehicle keeps `window` messages unacknowledged: commit-before-ack needs many in flight to fill a batch.
  const pump = (c: Conn): void => {
    if (nowMs() >= stopAt) return;
    const seq = ++c.seq;
    const sent = c.client.publish(c.topic, c.json(seq, Date.now()), () => {
      ackCount++;
      lastAckAt = nowMs();
      let list = acked.get(c.v.id);
      if (!list) acked.set(c.v.id, (list = []));
      list.push(seq);
      pump(c);
    });
    if (sent) published++; // else disconnected (counted): this vehicle stops
  };
  for (const c of conns) for (let i = 0; i < job.window; i++) pump(c);
  while (nowMs() < stopAt) {
    await sleep(1_000);
    if (ackCount === 0 && nowMs() - startedAt > 15_000) throw new Error('no PUBACK within 15 s of publishing: the broker is not committing (see its log)');
    send({ type: 'progress', text: `ingest: ${ackCount.toLocaleString('en-US')} acked, ${inflight()} in flight, ${Math.round(ackCount / ((nowMs() - startedAt) / 1000)).toLocaleString('en-US')} msg/s` });
  }
  // Bounded drain: what is in flight gets up to 30 s to be acknowledged.
  const drainUntil = nowMs() + 30_000;
  while (inflight() > 0 && nowMs() < drainUntil) await sleep(50);
  const cpu = cpuMs() - cpu0;
  const wall = nowMs() - startedAt;
  const ackedRanges: Record<string, Array<[number, number]>> = {};
  for (const [id, seqs] of acked) ackedRanges[id] = toRanges(seqs);
  await endAll(conns);
  send({ type: 'result', kind: 'ingest', startedAt, lastAckAt, published, acked: ackCount, ackedRanges, disconnects, cpuMs: cpu, wallMs: wall });
}

async function runRate(job: Extract<LoadJob, { kind: 'rate' }>): Promise<void> {
  const conns = await connectAll(job);
  // The first `probes` vehicles of the job (the parent polls the same ids), whatever order they connected in.
  const probeIds = new Set(job.vehicles.slice(0, job.probes).map((v) => v.id));
  const probeSent: Record<string, Record<number, number>> = {};
  for (const id of probeIds) probeSent[id] = {};
  const ackMs: number[] = [];
  let published = 0;
  let ackCount = 0;
  const cpu0 = cpuMs();
  const startedAt = nowMs();
  const measureFrom = startedAt + job.warmupMs;
  const stopAt = startedAt + job.durationMs;
  let rr = 0;
  let lastProgress = 0;
  // Open loop: messages are due at a fixed rate whatever the broker does; latency counts from the due time, so a
  // slow broker cannot hide its queueing by slowing the generator (no coordinated omission).
  while (nowMs() < stopAt) {
    const elapsed = nowMs() - startedAt;
    const due = Math.floor((job.ratePerS * elapsed) / 1000);
    while (published < due) {
      const intended = startedAt + (published * 1000) / job.ratePerS;
      const c = conns[rr++ % conns.length]!;
      const seq = ++c.seq;
      const measured = intended >= measureFrom;
      if (measured && probeIds.has(c.v.id)) probeSent[c.v.id]![seq] = intended;
      const sent = c.client.publish(c.topic, c.json(seq, Date.now()), () => {
        ackCount++;
        if (measured) ackMs.push(nowMs() - intended);
      });
      if (sent) published++;
    }
    await sleep(2);
    if (ackCount === 0 && nowMs() - startedAt > 15_000) throw new Error('no PUBACK within 15 s of publishing: the broker is not committing (see its log)');
    if (nowMs() - lastProgress >= 1_000) {
      lastProgress = nowMs();
      send({ type: 'progress', text: `rate: ${published.toLocaleString('en-US')} published, ${ackCount.toLocaleString('en-US')} acked` });
    }
  }
  const sentEnd = nowMs();
  const drainUntil = nowMs() + 30_000;
  while (ackCount < published && nowMs() < drainUntil) await sleep(20);
  const cpu = cpuMs() - cpu0;
  await endAll(conns);
  send({
    type: 'result',
    kind: 'rate',
    published,
    acked: ackCount,
    ackMs,
    probeSent,
    achievedRate: published / ((sentEnd - startedAt) / 1000),
    disconnects,
    cpuMs: cpu,
    wallMs: sentEnd - startedAt,
  });
}

async function runConnections(job: Extract<LoadJob, { kind: 'connections' }>): Promise<void> {
  const conns = await connectAll(job);
  const ackMs: number[] = [];
  let published = 0;
  let ackCount = 0;
  const cpu0 = cpuMs();
  const startedAt = nowMs();
  const stopAt = startedAt + job.holdMs;
  // Every vehicle publishes once per interval, at its own phase, so the load is spread evenly over time.
  const timers = conns.map((c, i) => {
    const tick = (): void => {
      if (nowMs() >= stopAt) return;
      const seq = ++c.seq;
      const t0 = nowMs();
      const sent = c.client.publish(c.topic, c.json(seq, Date.now()), () => {
        ackCount++;
        ackMs.push(nowMs() - t0);
      });
      if (sent) published++; // a disconnected vehicle publishes nothing more (its disconnect is counted)
    };
    const phase = (i / conns.length) * job.intervalMs;
    let interval: NodeJS.Timeout | undefined;
    const start = setTimeout(() => {
      tick();
      interval = setInterval(tick, job.intervalMs);
    }, phase);
    return () => {
      clearTimeout(start);
      clearInterval(interval);
    };
  });
  while (nowMs() < stopAt) {
    await sleep(1_000);
    send({ type: 'progress', text: `hold: ${conns.length} connected, ${published.toLocaleString('en-US')} published, ${ackCount.toLocaleString('en-US')} acked, ${disconnects} disconnects` });
  }
  for (const stop of timers) stop();
  const drainUntil = nowMs() + 10_000;
  while (ackCount < published && nowMs() < drainUntil) await sleep(20);
  const cpu = cpuMs() - cpu0;
  const wall = nowMs() - startedAt;
  // The parent samples the broker before asking for the result; ending 10,000 clients takes a moment.
  send({ type: 'result', kind: 'connections', published, acked: ackCount, ackMs, disconnects, cpuMs: cpu, wallMs: wall });
  await endAll(conns);
}

function toRanges(seqs: number[]): Array<[number, number]> {
  seqs.sort((a, b) => a - b);
  const out: Array<[number, number]> = [];
  for (const s of seqs) {
    const last = out[out.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else if (!last || s > last[1]) out.push([s, s]);
  }
  return out;
}

process.on('disconnect', () => process.exit(0)); // the parent went away: never linger
process.once('message', (job: LoadJob) => {
  const run = job.kind === 'ingest' ? runIngest(job) : job.kind === 'rate' ? runRate(job) : runConnections(job);
  run.then(
    () => exitWhenSent(0),
    (error: unknown) => {
      send({ type: 'error', message: error instanceof Error ? (error.stack ?? error.message) : String(error) });
      return exitWhenSent(1);
    },
  );
});
