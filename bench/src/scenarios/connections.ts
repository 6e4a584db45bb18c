// connections: N vehicles connected to the broker, each publishing one QoS 1 sample per second (10,000; quick 2,000):
// the broker's resident memory, connect latency and CPU, side by side with mosquitto 2 under the same load.
// Both brokers run as child processes of their own, measured the same way from /proc (VmRSS, VmHWM, utime+stime);
// the load generators are child processes too, and their CPU share is reported so a saturated generator shows.
// The two do different work per message: specfleet authenticates every vehicle against the registry and commits
// each sample to the database before its PUBACK (database CPU is not in its figure); mosquitto runs anonymous and
// drops the messages (no subscriber).
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect as tcpConnect, createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ConnectionsReport, LoadVehicle } from '../children/mqtt-load.js';
import { endChild, forkTs, startLoadGenerator } from '../lib/children.js';
import { benchFleet, sampleTemplates, seedRegistry, vehicleSecret } from '../lib/fleet.js';
import { fmtMs, fmtRatio, ratio, type Scenario } from '../lib/scenario.js';
import { cpuPercent, fmtInt, machineCpu, percentile, procSample, round, sleep, waitUntil, within } from '../lib/util.js';

const MOSQUITTO = '/usr/sbin/mosquitto';
const PER_GENERATOR = 5_000;

interface BrokerRun {
  connected: number;
  failed: number;
  connectP50: number;
  connectP99: number;
  connectWallS: number;
  idleRssMb: number;
  rssMb: number;
  hwmMb: number;
  cpuPct: number;
  generatorCpuPct: number[];
  machinePct: number;
  published: number;
  acked: number;
  ackP99: number;
  disconnects: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = tcpConnect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** Drives `load` against a broker process `pid` on `port`, measuring it from /proc. */
type MemoryUsage = NodeJS.MemoryUsage;
interface MemoryReport {
  before: MemoryUsage;
  afterGc: MemoryUsage;
}

async function measure(
  label: string,
  pid: number,
  port: number,
  load: LoadVehicle[],
  credentials: boolean,
  holdMs: number,
  progress: (t: string) => void,
  memory?: () => Promise<MemoryReport>,
): Promise<BrokerRun & { memory?: MemoryReport }> {
  await sleep(2_000);
  const idle = procSample(pid);
  const idleMemory = await memory?.();
  const slices: LoadVehicle[][] = [];
  for (let i = 0; i < load.length; i += PER_GENERATOR) slices.push(load.slice(i, i + PER_GENERATOR));
  const status = slices.map(() => '');
  const gens = slices.map((vehicles, i) =>
    startLoadGenerator({ kind: 'connections', port, vehicles, connectConcurrency: 100, credentials, holdMs, intervalMs: 1_000 }, (t) => {
      status[i] = t;
      progress(`${label}: ${status.join(' | ')}`);
    }),
  );
  const connects = await Promise.all(gens.map((g) => within(g.connected, 300_000, `${label}: connecting`)));
  const b0 = procSample(pid);
  const g0 = gens.map((g) => procSample(g.pid));
  const m0 = machineCpu();
  // Sample the broker while the clients are held (the generators report only after the hold).
  let peak = b0;
  const sampler = setInterval(() => {
    try {
      const s = procSample(pid);
      if (s.rssMb > peak.rssMb) peak = s;
    } catch {
      // gone
    }
  }, 1_000);
  const waitHold = sleep(holdMs - 500);
  await waitHold;
  const b1 = procSample(pid);
  const g1 = gens.map((g) => procSample(g.pid));
  const m1 = machineCpu();
  clearInterval(sampler);
  const heldMemory = await memory?.();
  const results = (await Promise.all(gens.map((g) => within(g.result, 120_000, `${label}: load result`)))) as ConnectionsReport[];
  const connectMs = connects.flatMap((c) => c.connectMs);
  const ackMs = results.flatMap((r) => r.ackMs);
  return {
    connected: connects.reduce((a, c) => a + c.connected, 0),
    failed: connects.reduce((a, c) => a + c.failed, 0),
    connectP50: percentile(connectMs, 50),
    connectP99: percentile(connectMs, 99),
    connectWallS: Math.max(...connects.map((c) => c.wallMs)) / 1000,
    idleRssMb: idle.rssMb,
    rssMb: Math.max(b1.rssMb, peak.rssMb),
    hwmMb: b1.hwmMb,
    cpuPct: cpuPercent(b0, b1),
    generatorCpuPct: g0.map((s, i) => cpuPercent(s, g1[i]!)),
    machinePct: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total),
    published: results.reduce((a, r) => a + r.published, 0),
    acked: results.reduce((a, r) => a + r.acked, 0),
    ackP99: percentile(ackMs, 99),
    disconnects: results.reduce((a, r) => a + r.disconnects, 0),
    ...(heldMemory && idleMemory ? { memory: heldMemory, idleMemory } : {}),
  };
}

const mb = (m: MemoryReport | undefined) =>
  m && {
    heap_used_mb: round(m.before.heapUsed / 2 ** 20, 1),
    heap_used_after_gc_mb: round(m.afterGc.heapUsed / 2 ** 20, 1),
    heap_total_mb: round(m.before.heapTotal / 2 ** 20, 1),
    external_mb: round(m.before.external / 2 ** 20, 1),
    array_buffers_mb: round(m.before.arrayBuffers / 2 ** 20, 1),
    rss_after_gc_mb: round(m.afterGc.rss / 2 ** 20, 1),
  };

export const connectionsScenario: Scenario = {
  name: 'connections',
  summary: 'N vehicles at 1 msg/s (10,000; quick 2,000): broker RSS, connect p99, CPU; vs mosquitto 2 under the same load',
  async run({ quick, skipBaselines, scratch, progress }) {
    const clients = quick ? 2_000 : 10_000;
    const holdMs = quick ? 30_000 : 60_000;
    const fleet = benchFleet(clients);
    const admin = scratch.open({ max: 4, applicationName: 'specfleet-bench-seed' });
    progress.done(`connections: registering ${fmtInt(clients)} vehicles`);
    await seedRegistry(admin.db, fleet, (n) => progress.update(`registered ${fmtInt(n)}`));
    // One template per vehicle class and powertrain is enough: payloads differ by class, not by vehicle.
    const shapes = [...sampleTemplates(fleet.slice(0, 56), Date.now() - 3_600_000).values()];
    const load: LoadVehicle[] = fleet.map((v, i) => ({ id: v.id, secret: vehicleSecret(v.id), template: shapes[i % shapes.length]! }));

    // --- specfleet ---------------------------------------------------------------------------------------------------
    progress.done(`specfleet: ${fmtInt(clients)} clients, ${holdMs / 1000} s at 1 msg/s each`);
    // --expose-gc only so the memory breakdown can show live heap after a collection; the broker never calls gc().
    const child = forkTs('specfleet-stack.ts', { SPECFLEET_BENCH_DB: scratch.url }, ['--expose-gc']);
    const memory = (): Promise<MemoryReport> =>
      within(
        new Promise<MemoryReport>((resolve) => {
          const on = (m: { type: string } & MemoryReport): void => {
            if (m.type !== 'memory') return;
            child.off('message', on);
            resolve(m);
          };
          child.on('message', on);
          child.send({ type: 'memory' });
        }),
        30_000,
        'memory report',
      );
    let spec: BrokerRun & { memory?: MemoryReport; idleMemory?: MemoryReport };
    try {
      const ready = await within(
        new Promise<{ mqttPort: number }>((resolve, reject) => {
          child.once('message', (m: { type: string; mqttPort: number }) => (m.type === 'ready' ? resolve(m) : reject(new Error(JSON.stringify(m)))));
          child.once('exit', (code) => reject(new Error(`specfleet child exited (${code})`)));
        }),
        60_000,
        'specfleet child start',
      );
      spec = await measure('specfleet', child.pid!, ready.mqttPort, load, true, holdMs, (t) => progress.update(t), memory);
    } finally {
      child.send({ type: 'stop' });
      await endChild(child, 30_000);
    }
    progress.done(`specfleet: ${fmtInt(spec.connected)} connected, RSS ${spec.rssMb.toFixed(0)} MB, connect p99 ${fmtMs(spec.connectP99)}, CPU ${spec.cpuPct.toFixed(0)} %`);

    // --- mosquitto ---------------------------------------------------------------------------------------------------
    let mosq: BrokerRun | undefined;
    if (!skipBaselines) {
      const dir = mkdtempSync(join(tmpdir(), 'specfleet-bench-mosquitto-'));
      const port = await freePort();
      const conf = join(dir, 'mosquitto.conf');
      writeFileSync(
        conf,
        [`listener ${port} 127.0.0.1`, 'allow_anonymous true', 'max_connections -1', 'persistence false', 'log_dest stderr', 'log_type error', 'connection_messages false', ''].join('\n'),
      );
      const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'inherit'] });
      try {
        if (!(await waitUntil(() => accepts(port), 10_000, 100))) throw new Error(`mosquitto did not listen on ${port}`);
        progress.done(`mosquitto ${MOSQUITTO}: ${fmtInt(clients)} clients, ${holdMs / 1000} s at 1 msg/s each`);
        mosq = await measure('mosquitto', proc.pid!, port, load, false, holdMs, (t) => progress.update(t));
      } finally {
        proc.kill('SIGTERM');
        await new Promise((resolve) => (proc.exitCode !== null ? resolve(undefined) : proc.once('exit', resolve)));
        rmSync(dir, { recursive: true, force: true });
      }
      progress.done(`mosquitto: ${fmtInt(mosq.connected)} connected, RSS ${mosq.rssMb.toFixed(1)} MB, connect p99 ${fmtMs(mosq.connectP99)}, CPU ${mosq.cpuPct.toFixed(0)} %`);
    }

    const rssRatio = mosq ? ratio(spec.rssMb, mosq.rssMb) : Number.NaN;
    const row = (r: BrokerRun) => ({
      connected: r.connected,
      failed: r.failed,
      connect_p50_ms: round(r.connectP50, 1),
      connect_p99_ms: round(r.connectP99, 1),
      connect_all_s: round(r.connectWallS, 1),
      idle_rss_mb: round(r.idleRssMb, 1),
      rss_mb: round(r.rssMb, 1),
      rss_hwm_mb: round(r.hwmMb, 1),
      rss_per_connection_kb: round(((r.rssMb - r.idleRssMb) * 1024) / Math.max(1, r.connected), 1),
      cpu_pct: round(r.cpuPct, 0),
      generator_cpu_pct: r.generatorCpuPct.map((p) => round(p, 0)),
      machine_cpu_pct: round(r.machinePct, 0),
      published: r.published,
      acked: r.acked,
      ack_p99_ms: round(r.ackP99, 1),
      disconnects: r.disconnects,
    });
    return {
      fields: {
        clients,
        hold_s: holdMs / 1000,
        broker_rss_mb: round(spec.rssMb, 1),
        mosquitto_rss_mb: mosq ? round(mosq.rssMb, 1) : null,
        ratios: { rss_vs_mosquitto: round(rssRatio, 1), connect_p99_vs_mosquitto: mosq ? round(ratio(spec.connectP99, mosq.connectP99), 1) : null },
        specfleet: { ...row(spec), memory_idle: mb(spec.idleMemory), memory_held: mb(spec.memory) },
        mosquitto: mosq ? row(mosq) : null,
        targets: { broker_rss_mb_at_10000: 600 },
      },
      table: [
        { metric: `RSS with ${fmtInt(clients)} clients (MB)`, specfleet: spec.rssMb.toFixed(0), baseline: mosq ? mosq.rssMb.toFixed(1) : '', ratio: fmtRatio(rssRatio), target: '≤ 600 @ 10,000' },
        { metric: 'RSS idle before connecting (MB)', specfleet: spec.idleRssMb.toFixed(0), baseline: mosq ? mosq.idleRssMb.toFixed(1) : '' },
        { metric: 'connect p50 / p99', specfleet: `${fmtMs(spec.connectP50)} / ${fmtMs(spec.connectP99)}`, baseline: mosq ? `${fmtMs(mosq.connectP50)} / ${fmtMs(mosq.connectP99)}` : '' },
        { metric: 'broker CPU while held (% of a core)', specfleet: `${spec.cpuPct.toFixed(0)} %`, baseline: mosq ? `${mosq.cpuPct.toFixed(0)} %` : '' },
        { metric: 'PUBACK p99 at 1 msg/s each', specfleet: fmtMs(spec.ackP99), baseline: mosq ? fmtMs(mosq.ackP99) : '' },
        { metric: 'acked / published', specfleet: `${fmtInt(spec.acked)} / ${fmtInt(spec.published)}`, baseline: mosq ? `${fmtInt(mosq.acked)} / ${fmtInt(mosq.published)}` : '' },
        { metric: 'load generator CPU (% of a core each)', specfleet: spec.generatorCpuPct.map((p) => `${p.toFixed(0)} %`).join(', '), baseline: mosq ? mosq.generatorCpuPct.map((p) => `${p.toFixed(0)} %`).join(', ') : '' },
      ],
      notes: [
        ...(spec.memory && spec.idleMemory
          ? [
              `specfleet memory, idle → held: V8 heap used ${mb(spec.idleMemory)!.heap_used_mb} → ${mb(spec.memory)!.heap_used_mb} MB (after a forced GC ${mb(spec.idleMemory)!.heap_used_after_gc_mb} → ${mb(spec.memory)!.heap_used_after_gc_mb} MB), heap reserved ${mb(spec.idleMemory)!.heap_total_mb} → ${mb(spec.memory)!.heap_total_mb} MB, external ${mb(spec.idleMemory)!.external_mb} → ${mb(spec.memory)!.external_mb} MB`,
            ]
          : []),
        'RSS = VmRSS of the broker process at the end of the hold (or the highest 1 s sample, if higher); CPU = utime+stime over the hold; both from /proc, same method for both brokers',
        'specfleet = the embedded process (startStack: broker + ingestion + query API) authenticating each vehicle and committing every sample before its PUBACK; PostgreSQL CPU/RSS not included. mosquitto 2: anonymous, no subscriber, no storage',
        `generators: ${Math.ceil(clients / PER_GENERATOR)} process(es) of up to ${fmtInt(PER_GENERATOR)} MQTT clients (bench/src/lib/lean-mqtt.ts), 100 CONNECTs in flight each; machine CPU while held: specfleet ${spec.machinePct.toFixed(0)} %${mosq ? `, mosquitto ${mosq.machinePct.toFixed(0)} %` : ''}`,
        `disconnects during the hold: specfleet ${spec.disconnects}${mosq ? `, mosquitto ${mosq.disconnects}` : ''}; failed connects: specfleet ${spec.failed}${mosq ? `, mosquitto ${mosq.failed}` : ''}`,
      ],
    };
  },
};
