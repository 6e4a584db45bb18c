// latency: at a fixed publish rate, how long until a sample is visible in vehicle_state (the latest snapshot the fleet
// status reads). Two measurements of the same run:
// - publish → PUBACK for every message. The embedded broker sends the PUBACK only after the batch transaction that
//   also updated vehicle_state has committed, so this is an upper bound of publish → visible, at no cost to measure.
// - publish → seen by a poller, for the messages of a few probe vehicles: one indexed SELECT of their last_seq every
//   5 ms on its own connection (≈200 small queries/s, a small fraction of the write load), so its resolution is the
//   poll interval plus one query.
// Latency counts from the time a message was due (open-loop schedule), so a slow broker cannot hide queueing.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { RateReport, LoadVehicle } from '../children/mqtt-load.js';
import { startLoadGenerator } from '../lib/children.js';
import { benchFleet, sampleTemplates, seedRegistry, vehicleSecret } from '../lib/fleet.js';
import { profileWindow } from '../lib/profiler.js';
import { fmtMs, type Scenario } from '../lib/scenario.js';
import { pipelineStats, startBenchStack } from '../lib/stack.js';
import { cpuPercent, fmtInt, machineCpu, nowMs, percentile, procSample, round, sleep } from '../lib/util.js';

export const latencyScenario: Scenario = {
  name: 'latency',
  summary: 'publish → visible in vehicle_state at a fixed rate (10,000 msg/s; quick 2,000): p50/p99',
  async run({ quick, scratch, progress }) {
    const rate = quick ? 2_000 : 10_000;
    const vehicles = quick ? 200 : 1_000;
    const durationMs = quick ? 30_000 : 60_000;
    const warmupMs = 5_000;
    const probes = 10;
    const pollMs = 5;
    const fleet = benchFleet(vehicles);
    const admin = scratch.open({ max: 2, applicationName: 'specfleet-bench-poller' });
    await seedRegistry(admin.db, fleet);
    const templates = sampleTemplates(fleet, Date.now() - 3_600_000);
    const load: LoadVehicle[] = fleet.map((v) => ({ id: v.id, secret: vehicleSecret(v.id), template: templates.get(v.id)! }));
    const probeIds = load.slice(0, probes).map((v) => v.id);

    const stack = await startBenchStack(scratch.url);
    let report: RateReport;
    const visibleAt = new Map<string, Map<number, number>>(probeIds.map((id) => [id, new Map()]));
    let polls = 0;
    let cpu: { stack: number; generator: number; machine: number };
    let batches: Awaited<ReturnType<typeof pipelineStats>>;
    // How late the process's event loop ran a 1 ms timer: every round trip to the database waits behind that too.
    let loopDelay: { p50_ms: number; p99_ms: number; max_ms: number };
    try {
      progress.done(`latency: ${fmtInt(rate)} msg/s from ${vehicles} vehicles for ${durationMs / 1000} s (first ${warmupMs / 1000} s not measured)`);
      const gen = startLoadGenerator(
        { kind: 'rate', port: stack.mqttPort, vehicles: load, connectConcurrency: 50, credentials: true, durationMs, ratePerS: rate, warmupMs, probes },
        (t) => progress.update(`latency ${t}`),
      );
      await gen.connected;
      const s0 = procSample(process.pid);
      const g0 = procSample(gen.pid);
      const m0 = machineCpu();
      const profiler = await profileWindow('latency-specfleet');
      const eld = monitorEventLoopDelay({ resolution: 1 });
      eld.enable();
      // The poller: runs until the generator reports, bounded by the run time plus the drain.
      let polling = true;
      const lastSeen = new Map<string, number>(probeIds.map((id) => [id, 0]));
      const poller = (async () => {
        const deadline = Date.now() + durationMs + 60_000;
        while (polling && Date.now() < deadline) {
          const sentAt = nowMs();
          const { rows } = await admin.pool.query<{ vehicle_id: string; last_seq: number | null }>(
            'SELECT vehicle_id, last_seq FROM vehicle_state WHERE vehicle_id = ANY($1::text[])',
            [probeIds],
          );
          polls++;
          for (const r of rows) {
            const seq = r.last_seq ?? 0;
            const before = lastSeen.get(r.vehicle_id) ?? 0;
            if (seq > before) {
              const seen = visibleAt.get(r.vehicle_id)!;
              // Every seq up to the newest became visible no later than this poll (one batch commits them together).
              for (let s = before + 1; s <= seq; s++) seen.set(s, sentAt);
              lastSeen.set(r.vehicle_id, seq);
            }
          }
          await sleep(pollMs);
        }
      })();
      report = (await gen.result) as RateReport;
      polling = false;
      await poller;
      const s1 = procSample(process.pid);
      await profiler.stop();
      eld.disable();
      loopDelay = { p50_ms: round(eld.percentile(50) / 1e6, 1), p99_ms: round(eld.percentile(99) / 1e6, 1), max_ms: round(eld.max / 1e6, 1) };
      let generatorPct = 0;
      try {
        generatorPct = cpuPercent(g0, procSample(gen.pid));
      } catch {
        // the generator has exited already; its own figure is in the report
        generatorPct = (100 * report.cpuMs) / report.wallMs;
      }
      const m1 = machineCpu();
      cpu = { stack: cpuPercent(s0, s1), generator: generatorPct, machine: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total) };
      batches = await pipelineStats(stack);
    } finally {
      await stack.stop();
    }

    const visible: number[] = [];
    let probeMessages = 0;
    for (const [id, sent] of Object.entries(report.probeSent)) {
      const seen = visibleAt.get(id);
      for (const [seq, t] of Object.entries(sent)) {
        probeMessages++;
        const at = seen?.get(Number(seq));
        if (at !== undefined) visible.push(Math.max(0, at - t));
      }
    }
    const p50 = percentile(report.ackMs, 50);
    const p99 = percentile(report.ackMs, 99);
    const v50 = percentile(visible, 50);
    const v99 = percentile(visible, 99);
    const notes = [
      `achieved publish rate ${fmtInt(report.achievedRate)} msg/s (target ${fmtInt(rate)}); ${fmtInt(report.acked)} of ${fmtInt(report.published)} acknowledged; ${report.disconnects} disconnects`,
      `p50/p99 = publish (scheduled) → PUBACK over ${fmtInt(report.ackMs.length)} messages after the warm-up; the PUBACK follows the COMMIT that updates vehicle_state, so it bounds visibility from above`,
      `poller check: ${fmtInt(visible.length)} of ${fmtInt(probeMessages)} probe messages seen in vehicle_state by a ${pollMs} ms poller (${fmtInt(polls)} polls): p50 ${fmtMs(v50)}, p99 ${fmtMs(v99)}`,
      `pipeline: ${fmtInt(batches.batches)} batches, ${batches.avg_batch_samples} samples and ${batches.avg_commit_ms} ms per commit on average`,
      `event-loop delay of the specfleet process (1 ms timer): p50 ${loopDelay.p50_ms} ms, p99 ${loopDelay.p99_ms} ms, max ${loopDelay.max_ms} ms`,
      `CPU during the run (% of one core): specfleet ${round(cpu.stack, 0)} %, generator ${round(cpu.generator, 0)} %, machine ${round(cpu.machine, 0)} % of both cores`,
    ];
    return {
      fields: {
        rate_msgs_per_s: rate,
        achieved_rate_msgs_per_s: Math.round(report.achievedRate),
        vehicles,
        publish_duration_s: durationMs / 1000,
        p50_ms: round(p50, 2),
        p99_ms: round(p99, 2),
        max_ms: round(percentile(report.ackMs, 100), 1),
        measured_messages: report.ackMs.length,
        visible_poll: { probes, poll_interval_ms: pollMs, messages: visible.length, p50_ms: round(v50, 2), p99_ms: round(v99, 2) },
        published: report.published,
        acked: report.acked,
        cpu: { specfleet_process_pct: round(cpu.stack, 0), generator_pct: round(cpu.generator, 0), machine_pct: round(cpu.machine, 0) },
        pipeline: batches,
        event_loop_delay: loopDelay,
        targets: { p99_ms_at_10000_msgs_per_s: 100 },
      },
      table: [
        { metric: `publish → committed+PUBACK p50 @ ${fmtInt(rate)}/s`, specfleet: fmtMs(p50) },
        { metric: `publish → committed+PUBACK p99 @ ${fmtInt(rate)}/s`, specfleet: fmtMs(p99), target: '≤ 100 ms @ 10,000/s' },
        { metric: `publish → seen by ${pollMs} ms poller p50 (probes)`, specfleet: fmtMs(v50) },
        { metric: `publish → seen by ${pollMs} ms poller p99 (probes)`, specfleet: fmtMs(v99) },
        { metric: 'achieved rate', specfleet: `${fmtInt(report.achievedRate)}/s` },
        { metric: 'load generator CPU (% of a core)', specfleet: `${round(cpu.generator, 0)} %` },
      ],
      notes,
    };
  },
};
