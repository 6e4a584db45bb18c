// fleet-status: GET /api/v1/fleet/status (the latest snapshot of every vehicle, from vehicle_state) at 10,000 vehicles
// (quick: 1,000) with a day of history in telemetry, against the naive answer to the same question: the newest row
// per vehicle straight from telemetry with SELECT DISTINCT ON (vehicle_id) … ORDER BY vehicle_id, ts DESC.
// History goes in with COPY (fast); the newest sample of each vehicle and its connectivity go through the ingestion
// pipeline, so vehicle_state is what ingestion makes of them.
import { statusTopic } from '@fleet/contracts';
import { BENCH_TENANT, benchFleet, seedRegistry } from '../lib/fleet.js';
import { copyHistory } from '../lib/history.js';
import { FleetQueryRepository } from '@fleet/db';
import { explainRepositoryCall, type ExplainedQuery } from '../lib/explain.js';
import { profileWindow } from '../lib/profiler.js';
import { fmtMs, fmtRatio, ratio, type Scenario } from '../lib/scenario.js';
import { startBenchStack } from '../lib/stack.js';
import { fmtInt, percentile, round } from '../lib/util.js';

// The naive baseline is the point of comparison, so its SQL lives here, not in a specfleet repository.
const NAIVE = 'SELECT DISTINCT ON (vehicle_id) * FROM telemetry ORDER BY vehicle_id, ts DESC';

export const fleetStatusScenario: Scenario = {
  name: 'fleet-status',
  summary: 'GET /api/v1/fleet/status p50/p95 at 10,000 vehicles (quick 1,000) with history; vs naive DISTINCT ON over telemetry',
  async run({ quick, skipBaselines, scratch, progress }) {
    const vehicles = quick ? 1_000 : 10_000;
    const historyH = 24;
    const intervalS = quick ? 120 : 240;
    const apiRuns = quick ? 200 : 500;
    const naiveRuns = 10;
    const naiveBudgetMs = quick ? 60_000 : 180_000;
    const fleet = benchFleet(vehicles);
    const admin = scratch.open({ max: 4, applicationName: 'specfleet-bench-seed' });
    progress.done(`fleet-status: registering ${fmtInt(vehicles)} vehicles`);
    const apiKey = await seedRegistry(admin.db, fleet, (n) => progress.update(`registered ${fmtInt(n)} vehicles`));
    const now = Date.now();
    progress.done(`fleet-status: ${historyH} h of history every ${intervalS} s per vehicle (COPY)`);
    const seeded = await copyHistory(admin, fleet, now - historyH * 3_600_000, now - 60_000, intervalS, (n) => progress.update(`history: ${fmtInt(n)} rows`));
    progress.done(`fleet-status: ${fmtInt(seeded.rows)} telemetry rows`);

    const stack = await startBenchStack(scratch.url);
    let api: number[] = [];
    let apiPage: number[] = [];
    let naive: number[] = [];
    let items = 0;
    let naiveRows = 0;
    let explain = '';
    let explained: ExplainedQuery[] = [];
    try {
      // The newest sample of each vehicle (a minute later than its history) and, for half the fleet, "online".
      let i = 0;
      await Promise.all(
        [...seeded.newest].map(async ([id, sample]) => {
          const online = i++ % 2 === 0;
          const latest = { ...sample, ts: new Date(now - 30_000).toISOString(), seq: sample.seq + 1 };
          await stack.pipeline.ingest({ vehicleId: id, channel: 'telemetry', topic: `fleet/${id}/telemetry`, payload: Buffer.from(JSON.stringify(latest)), receivedAt: new Date() });
          if (online) {
            await stack.pipeline.ingest({ vehicleId: id, channel: 'status', topic: statusTopic(id), payload: Buffer.from('{"v":1,"online":true}'), receivedAt: new Date() });
          }
        }),
      );
      // VACUUM, not only ANALYZE: the seeded rows would otherwise keep autovacuum busy during the timed requests (see
      // the energy scenario).
      await admin.pool.query('VACUUM (ANALYZE)');
      const base = `http://127.0.0.1:${stack.httpPort}/api/v1/fleet/status`;
      const headers = { authorization: `Bearer ${apiKey}` };
      const get = async (url: string): Promise<number> => {
        const t0 = performance.now();
        const res = await fetch(url, { headers });
        const body = (await res.json()) as { items?: unknown[] };
        const ms = performance.now() - t0;
        if (res.status !== 200) throw new Error(`GET ${url} → ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
        items = body.items?.length ?? 0;
        return ms;
      };
      for (let w = 0; w < 20; w++) await get(base); // warm-up: JIT, connection pool, plan cache
      // --profile covers the default-page loop only; the server and the fetch client share this process, so the
      // profile holds both (undici / the client's JSON.parse are the client's share).
      const profiler = await profileWindow('fleet-status-api');
      for (let r = 0; r < apiRuns; r++) {
        api.push(await get(base));
        if (r % 20 === 0) progress.update(`API default page: ${r}/${apiRuns}`);
      }
      const profile = await profiler.stop();
      if (profile) progress.done(`profile: ${profile}`);
      const pageItems = items;
      for (let r = 0; r < Math.min(apiRuns, 100); r++) {
        apiPage.push(await get(`${base}?limit=1000`));
        if (r % 20 === 0) progress.update(`API limit=1000: ${r}`);
      }
      items = pageItems;
      progress.done(`API: p95 ${fmtMs(percentile(api, 95))} (page of ${items}), limit=1000 p95 ${fmtMs(percentile(apiPage, 95))}`);

      // Naive: same pool settings as the API (fresh connections, no statement timeout), bounded in runs and time.
      const started = Date.now();
      if (!skipBaselines) await admin.pool.query(NAIVE); // warm-up (caches)
      for (let r = 0; !skipBaselines && r < naiveRuns && Date.now() - started < naiveBudgetMs; r++) {
        const t0 = performance.now();
        const res = await admin.pool.query(NAIVE);
        naive.push(performance.now() - t0);
        naiveRows = res.rowCount ?? 0;
        progress.update(`naive DISTINCT ON: ${r + 1}/${naiveRuns}, last ${fmtMs(naive[naive.length - 1]!)}`);
      }
      const plan = skipBaselines ? { rows: [] } : await admin.pool.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS, TIMING OFF) ${NAIVE}`);
      const lines = plan.rows.map((r) => r['QUERY PLAN'].trim());
      explain = [...lines.filter((l) => /^(->\s+)?(Unique|Incremental Sort|Sort|Merge Append|Custom Scan|Index|Seq Scan|Append)/.test(l)).slice(0, 4), ...lines.filter((l) => /Execution Time/.test(l))].join(' | ');
      const clock = { now: new Date(), offlineAfterS: 900 };
      explained = await explainRepositoryCall(admin.pool, async (db) => {
        const repo = new FleetQueryRepository(db);
        await repo.status(BENCH_TENANT.id, {}, clock, { limit: 100 });
      });
      progress.done(`naive: p95 ${fmtMs(percentile(naive, 95))} over ${naive.length} runs (${fmtInt(naiveRows)} rows)`);
    } finally {
      await stack.stop();
    }
    const p50 = percentile(api, 50);
    const p95 = percentile(api, 95);
    const n95 = percentile(naive, 95);
    const vsNaive = ratio(n95, p95);
    return {
      fields: {
        vehicles,
        telemetry_rows: seeded.rows,
        history_hours: historyH,
        history_interval_s: intervalS,
        p50_ms: round(p50, 2),
        p95_ms: round(p95, 2),
        page_items: items,
        runs: api.length,
        limit_1000: { p50_ms: round(percentile(apiPage, 50), 2), p95_ms: round(percentile(apiPage, 95), 2), runs: apiPage.length },
        baselines: { naive_p50_ms: round(percentile(naive, 50), 1), naive_p95_ms: round(n95, 1), naive_runs: naive.length, naive_rows: naiveRows, naive_plan: explain },
        ratios: { vs_naive: round(vsNaive, 1), vs_naive_limit_1000: round(ratio(n95, percentile(apiPage, 95)), 1) },
        explain_api_queries: explained.map((e) => ({ sql: e.sql, execution_ms: e.executionMs, planning_ms: e.planningMs, plan: e.plan })),
        targets: { p95_ms: 10, vs_naive: 100 },
      },
      table: [
        { metric: `GET /fleet/status p50 (page of ${items} + counts)`, specfleet: fmtMs(p50), baseline: fmtMs(percentile(naive, 50)) },
        { metric: `GET /fleet/status p95 (page of ${items} + counts)`, specfleet: fmtMs(p95), baseline: fmtMs(n95), ratio: fmtRatio(vsNaive), target: '≤ 10 ms; ≥ 100×' },
        { metric: 'GET /fleet/status?limit=1000 p95', specfleet: fmtMs(percentile(apiPage, 95)), baseline: fmtMs(n95), ratio: fmtRatio(ratio(n95, percentile(apiPage, 95))) },
        { metric: 'vehicles / telemetry rows', specfleet: `${fmtInt(vehicles)} / ${fmtInt(seeded.rows)}` },
      ],
      notes: [
        `API timed end to end over HTTP (keep-alive fetch, JSON parsed), ${api.length} sequential requests after 20 warm-up; the baseline is the bare SQL over a pg connection (no HTTP, no JSON), ${naive.length} runs — so the ratio favours the baseline`,
        `the default page is ${items} vehicles plus per-connectivity counts over the whole fleet; the naive query returns all ${fmtInt(naiveRows)} latest rows, which the counts need anyway`,
        `naive plan: ${explain}`,
        `EXPLAIN ANALYZE of the API's SQL (one statement: the page and the counts): execution ${explained.map((e) => `${e.executionMs} ms`).join(' + ')}, planning ${explained.map((e) => `${e.planningMs} ms`).join(' + ')}`,
      ],
    };
  },
};
