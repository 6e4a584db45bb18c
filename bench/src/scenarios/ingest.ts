// ingest: sustained QoS 1 messages/s through specfleet's embedded broker (commit before PUBACK) from 200+ MQTT
// vehicles, then the count of acknowledged-but-missing and duplicated rows; side by side with a naive pipeline (ack on
// receipt, one INSERT per message) and the raw COPY ceiling (TelemetryRepository.copyBatch of the same rows, no MQTT).
import { TelemetryRepository } from '@fleet/db';
import { toTelemetryRow, type TelemetryInsert } from '../../../apps/ingestion/src/pipeline/rows.js';
import type { IngestReport, LoadVehicle } from '../children/mqtt-load.js';
import { countAgainstAcks, telemetryRowCount, truncateIngestTables } from '../lib/checks.js';
import { startLoadGenerator } from '../lib/children.js';
import { benchFleet, nthSample, sampleTemplates, seedRegistry, vehicleSecret } from '../lib/fleet.js';
import { startNaiveBroker } from '../lib/naive-broker.js';
import { fmtRatio, ratio, type Scenario } from '../lib/scenario.js';
import { profileWindow } from '../lib/profiler.js';
import { pipelineStats, startBenchStack } from '../lib/stack.js';
import { cpuPercent, fmtInt, machineCpu, procSample, round, waitUntil } from '../lib/util.js';

interface CpuWindow {
  stop(): { systemPct: number; generatorPct: number; machinePct: number };
}

/** CPU of this process (the system under test when it runs in-process), of the generator, and of the machine. */
function watchCpu(generatorPid: number): CpuWindow {
  const self0 = procSample(process.pid);
  const gen0 = procSample(generatorPid);
  const m0 = machineCpu();
  return {
    stop() {
      const self1 = procSample(process.pid);
      let generatorPct = 0;
      try {
        generatorPct = cpuPercent(gen0, procSample(generatorPid));
      } catch {
        // exited already
      }
      const m1 = machineCpu();
      return { systemPct: cpuPercent(self0, self1), generatorPct, machinePct: (100 * (m1.busy - m0.busy)) / Math.max(1, m1.total - m0.total) };
    },
  };
}

export const ingestScenario: Scenario = {
  name: 'ingest',
  summary: 'sustained durable QoS 1 msg/s (commit before PUBACK), lost/duplicates; vs naive INSERT-per-message and raw COPY',
  async run({ quick, skipBaselines, scratch, progress }) {
    const vehicles = quick ? 200 : 400;
    const durationMs = quick ? 20_000 : 60_000;
    const window = 32;
    const copyRowsCap = quick ? 300_000 : 1_000_000;
    const fleet = benchFleet(vehicles);
    const admin = scratch.open({ max: 4, applicationName: 'specfleet-bench-check' });
    await seedRegistry(admin.db, fleet);
    const templates = sampleTemplates(fleet, Date.now() - 3_600_000);
    const load: LoadVehicle[] = fleet.map((v) => ({ id: v.id, secret: vehicleSecret(v.id), template: templates.get(v.id)! }));
    const notes: string[] = [];

    // --- specfleet: embedded broker, in-process ingestion, PUBACK after COMMIT -------------------------------------
    progress.done(`specfleet: ${vehicles} vehicles × window ${window}, ${durationMs / 1000} s`);
    // The per-client rate limit (default 200/s) would cap each vehicle; this scenario measures the write path.
    const stack = await startBenchStack(scratch.url, { MQTT_PUBLISH_RATE: '1000000', MQTT_PUBLISH_BURST: '1000000' });
    let durable: IngestReport;
    let durableCpu: ReturnType<CpuWindow['stop']>;
    let batches: Awaited<ReturnType<typeof pipelineStats>>;
    try {
      const gen = startLoadGenerator({ kind: 'ingest', port: stack.mqttPort, vehicles: load, connectConcurrency: 50, credentials: true, durationMs, window }, (t) =>
        progress.update(`specfleet ${t}`),
      );
      await gen.connected;
      const cpu = watchCpu(gen.pid);
      const profiler = await profileWindow('ingest-specfleet');
      durable = (await gen.result) as IngestReport;
      durableCpu = cpu.stop();
      const profile = await profiler.stop();
      if (profile) progress.done(`CPU profile of the publishing window: ${profile}`);
      batches = await pipelineStats(stack);
    } finally {
      await stack.stop();
    }
    const durableSeconds = (durable.lastAckAt - durable.startedAt) / 1000;
    const durableRate = durable.acked / durableSeconds;
    progress.done(`specfleet: ${fmtInt(durable.acked)} acknowledged in ${durableSeconds.toFixed(1)} s = ${fmtInt(durableRate)} msg/s; counting rows`);
    const counted = await countAgainstAcks(admin.pool, durable.ackedRanges);
    if (skipBaselines) {
      return {
        fields: { vehicles, durable_msgs_per_s: Math.round(durableRate), acked: durable.acked, lost: counted.lost, duplicates: counted.duplicates, cpu: durableCpu, pipeline: batches },
        table: [
          { metric: 'durable msg/s (QoS 1, PUBACK after COMMIT)', specfleet: fmtInt(durableRate), target: '≥ 30,000' },
          { metric: 'lost / duplicates', specfleet: `${counted.lost} / ${counted.duplicates}`, target: '0 / 0' },
        ],
        notes: [`pipeline: ${fmtInt(batches.batches)} batches, ${batches.avg_batch_samples} samples and ${batches.avg_commit_ms} ms per commit on average`, `CPU: specfleet ${round(durableCpu.systemPct, 0)} %, generator ${round(durableCpu.generatorPct, 0)} %, machine ${round(durableCpu.machinePct, 0)} %`],
      };
    }

    // --- naive: ack on receipt, INSERT per message ------------------------------------------------------------------
    await truncateIngestTables(admin.pool);
    progress.done(`naive: same vehicles and window, ${durationMs / 1000} s`);
    const naive = await startNaiveBroker(scratch.url);
    let naiveReport: IngestReport;
    let naiveCpu: ReturnType<CpuWindow['stop']>;
    let naiveInsertedInWindow: number;
    let naiveBacklogAtEnd: number;
    let naiveDrainS: number;
    let naiveRate: number;
    try {
      const gen = startLoadGenerator({ kind: 'ingest', port: naive.port, vehicles: load, connectConcurrency: 50, credentials: false, durationMs, window }, (t) =>
        progress.update(`naive ${t}; inserted ${fmtInt(naive.stats.inserted)}, waiting for INSERT ${fmtInt(naive.stats.pending)}`),
      );
      await gen.connected;
      const cpu = watchCpu(gen.pid);
      const inserted0 = naive.stats.inserted;
      const t0 = Date.now();
      naiveReport = (await gen.result) as IngestReport;
      naiveCpu = cpu.stop();
      naiveInsertedInWindow = naive.stats.inserted - inserted0;
      const windowS = (Date.now() - t0) / 1000;
      naiveBacklogAtEnd = naive.stats.pending;
      // Bounded drain: the acknowledged-but-unwritten backlog gets written at the INSERT rate, which is the naive
      // pipeline's real (durable) throughput; the acks ran ahead of it.
      const drainStart = Date.now();
      await waitUntil(() => {
        progress.update(`naive: draining, ${fmtInt(naive.stats.pending)} INSERTs waiting`);
        return naive.stats.pending === 0;
      }, quick ? 60_000 : 300_000, 200);
      naiveDrainS = (Date.now() - drainStart) / 1000;
      naiveRate = (naive.stats.inserted - inserted0) / ((Date.now() - t0) / 1000);
      notes.push(`naive: ${fmtInt(naiveReport.acked)} acknowledged in ${windowS.toFixed(1)} s, of which ${fmtInt(naiveInsertedInWindow)} were inserted by then; ${fmtInt(naiveBacklogAtEnd)} acknowledged messages existed only in memory when the publishers stopped; ${fmtInt(naive.stats.inserted - inserted0)} inserted after ${naiveDrainS.toFixed(0)} s more (bounded drain). naive msg/s = rows inserted / (publishing + drain time)`);
    } finally {
      await naive.stop();
    }
    const naiveCounted = await countAgainstAcks(admin.pool, naiveReport.ackedRanges);

    // --- COPY ceiling: the same rows, no MQTT, no vehicle_state/energy work ------------------------------------------
    await truncateIngestTables(admin.pool);
    const copyRows = Math.min(durable.acked, copyRowsCap);
    progress.done(`COPY ceiling: building ${fmtInt(copyRows)} rows`);
    const perVehicle = Math.ceil(copyRows / fleet.length);
    const rows: TelemetryInsert[] = [];
    const t0 = Date.now() - 3_600_000;
    const receivedAt = new Date();
    for (let seq = 1; seq <= perVehicle && rows.length < copyRows; seq++) {
      for (const v of fleet) {
        if (rows.length >= copyRows) break;
        const tsMs = t0 + seq * 10;
        rows.push(toTelemetryRow(v.id, nthSample(templates.get(v.id)!, seq, tsMs), tsMs, receivedAt));
      }
    }
    const copyDb = scratch.open({ max: 2, applicationName: 'specfleet-bench-copy' });
    const repo = new TelemetryRepository(copyDb.db);
    const chunk = 2_000; // the pipeline's default batch size
    let nextChunk = 0;
    let copied = 0;
    const copyStart = performance.now();
    // What the ceiling costs the machine: with the database's share known, it says what is left for MQTT and decoding.
    const copyMachine0 = machineCpu();
    const copySelf0 = procSample(process.pid);
    // Two writers, like the pipeline's two concurrent batch transactions.
    await Promise.all(
      [0, 1].map(async () => {
        for (;;) {
          const i = nextChunk++;
          if (i * chunk >= rows.length) return;
          const r = await repo.copyBatch(rows.slice(i * chunk, (i + 1) * chunk));
          copied += r.inserted;
          progress.update(`COPY ceiling: ${fmtInt(copied)} / ${fmtInt(rows.length)}`);
        }
      }),
    );
    const copySeconds = (performance.now() - copyStart) / 1000;
    const copySelfPct = cpuPercent(copySelf0, procSample(process.pid));
    const copyMachine1 = machineCpu();
    const copyMachinePct = (100 * (copyMachine1.busy - copyMachine0.busy)) / Math.max(1, copyMachine1.total - copyMachine0.total);
    const copyRate = rows.length / copySeconds;
    const copyStored = await telemetryRowCount(admin.pool);
    progress.done(`COPY ceiling: ${fmtInt(rows.length)} rows in ${copySeconds.toFixed(1)} s = ${fmtInt(copyRate)} rows/s (${fmtInt(copyStored)} stored)`);

    const vsNaive = ratio(durableRate, naiveRate);
    const vsCopy = ratio(durableRate, copyRate);
    notes.push(
      `pipeline: ${fmtInt(batches.batches)} batches, ${batches.avg_batch_samples} samples and ${batches.avg_commit_ms} ms per commit on average; ${batches.energy_recomputed_hours} energy hours recomputed`,
      `CPU while publishing (% of one core; the machine has 2): specfleet process ${round(durableCpu.systemPct, 0)} %, load generator ${round(durableCpu.generatorPct, 0)} %, whole machine ${round(durableCpu.machinePct, 0)} % of all cores (PostgreSQL is the rest)`,
      `naive run CPU: broker+inserts ${round(naiveCpu.systemPct, 0)} %, generator ${round(naiveCpu.generatorPct, 0)} %, machine ${round(naiveCpu.machinePct, 0)} %`,
      `one sample (≈620 B JSON from the simulator's vehicle models) per message; every vehicle keeps ${window} messages unacknowledged`,
      `COPY ceiling: ${fmtInt(rows.length)} rows (first ${fmtInt(copyRows)} of the run's count) in 2,000-row copyBatch calls on 2 connections; telemetry only (no vehicle_state, no energy_hourly); CPU meanwhile: whole machine ${round(copyMachinePct, 0)} % of all cores, the benchmark process (encoding the COPY data) ${round(copySelfPct, 0)} % of one core, PostgreSQL most of the rest`,
      `load generator disconnects: specfleet ${durable.disconnects}, naive ${naiveReport.disconnects}`,
    );
    await copyDb.close();
    return {
      fields: {
        vehicles,
        publish_duration_s: durationMs / 1000,
        window_per_vehicle: window,
        durable_msgs_per_s: Math.round(durableRate),
        acked: durable.acked,
        published: durable.published,
        stored: counted.stored,
        lost: counted.lost,
        duplicates: counted.duplicates,
        pipeline: batches,
        cpu: { specfleet_process_pct: round(durableCpu.systemPct, 0), generator_pct: round(durableCpu.generatorPct, 0), machine_pct: round(durableCpu.machinePct, 0) },
        baselines: {
          naive_msgs_per_s: Math.round(naiveRate),
          naive_acked: naiveReport.acked,
          naive_acked_per_s: Math.round(naiveReport.acked / (naiveReport.wallMs / 1000)),
          naive_unwritten_at_end: naiveBacklogAtEnd,
          naive_drain_s: round(naiveDrainS, 1),
          naive_lost_after_drain: naiveCounted.lost,
          copy_ceiling_rows_per_s: Math.round(copyRate),
          copy_ceiling_cpu: { machine_pct: round(copyMachinePct, 0), bench_process_pct: round(copySelfPct, 0) },
          copy_rows: rows.length,
        },
        ratios: { vs_naive: round(vsNaive, 2), vs_copy_ceiling: round(vsCopy, 2) },
        targets: { durable_msgs_per_s: 30_000, vs_naive: 10, vs_copy_ceiling: 0.5, lost: 0, duplicates: 0 },
      },
      table: [
        { metric: 'durable msg/s (QoS 1, PUBACK after COMMIT)', specfleet: fmtInt(durableRate), baseline: `${fmtInt(naiveRate)} naive`, ratio: fmtRatio(vsNaive), target: '≥ 30,000; ≥ 10×' },
        { metric: 'vs raw COPY ceiling (rows/s)', specfleet: fmtInt(durableRate), baseline: `${fmtInt(copyRate)} COPY`, ratio: fmtRatio(vsCopy), target: '≥ 0.5×' },
        { metric: 'acknowledged', specfleet: fmtInt(durable.acked), baseline: `${fmtInt(naiveReport.acked)} naive` },
        { metric: 'lost (acked, not in telemetry)', specfleet: fmtInt(counted.lost), baseline: `${fmtInt(naiveBacklogAtEnd)} unwritten at stop`, target: '0' },
        { metric: 'duplicates', specfleet: fmtInt(counted.duplicates), baseline: fmtInt(naiveCounted.duplicates), target: '0' },
        { metric: 'load generator CPU (% of a core)', specfleet: `${round(durableCpu.generatorPct, 0)} %`, baseline: `${round(naiveCpu.generatorPct, 0)} %` },
      ],
      notes,
    };
  },
};
