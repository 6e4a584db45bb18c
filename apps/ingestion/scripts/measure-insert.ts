// Measures the two telemetry bulk paths of @fleet/db on full rows — INSERT … SELECT unnest(…) (insertBatch) vs COPY
// into a staging table + INSERT … SELECT (copyBatch) — alternating, each on a fresh database, then the whole
// pipeline (single-sample messages, 1,000 vehicles). Not a test and not the benchmark: a quick decision aid.
//   node --import ./scripts/register.mjs apps/ingestion/scripts/measure-insert.ts <admin-url> [batches=30] [batchSize=2000] [rounds=2]
import { createDatabase, migrateToLatest, TelemetryRepository } from '@fleet/db';
import pg from 'pg';
import pino from 'pino';
import { IngestionPipeline } from '../src/pipeline/ingestion-pipeline.js';
import { toTelemetryRow, type TelemetryInsert } from '../src/pipeline/rows.js';

const adminUrl = process.argv[2] ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const batches = Number(process.argv[3] ?? 30);
const batchSize = Number(process.argv[4] ?? 2000);
const rounds = Number(process.argv[5] ?? 2);
const VEHICLES = 1000;
const vehicleId = (i: number) => `SZ-SAN-${String(i % VEHICLES).padStart(4, '0')}`;

function fullSample(i: number, tsMs: number) {
  return {
    v: 1 as const,
    ts: new Date(tsMs).toISOString(),
    seq: i,
    position: { lat: 31.69 + (i % 100) / 1e4, lon: 113.38, alt_m: 96.5, heading_deg: 270, speed_kmh: 32.5 },
    odometer_km: 15234.2 + i / 100,
    state: 'working' as const,
    battery: { soc_pct: 78.5, voltage_v: 614.2, current_a: 32.1, temp_max_c: 31, temp_min_c: 24.5, cell_v_max: 3.412, cell_v_min: 3.398, soh_pct: 96 },
    energy: { traction_kwh: 18234.5 + i / 1000, body_kwh: 4210.2, regen_kwh: 2100.3, charged_kwh: 24100 },
    body: { type: 'sweeper' as const, active: true, power_kw: 18.5, hours: 2210.4, signals: { brush_rpm: 120, water_l: 1800 } },
    dtc: ['P0A80'],
  };
}

async function admin(query: string): Promise<void> {
  const c = new pg.Client({ connectionString: adminUrl });
  await c.connect();
  try {
    await c.query(query);
  } finally {
    await c.end();
  }
}

async function withFreshDb<T>(name: string, body: (url: string) => Promise<T>): Promise<T> {
  await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  await admin(`CREATE DATABASE "${name}"`);
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const m = createDatabase(url.toString(), { max: 1, statementTimeoutMs: 0 });
  await migrateToLatest(m.db);
  await m.close();
  try {
    return await body(url.toString());
  } finally {
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

const quiet = { onPoolError: () => undefined };
const start = Date.now() - 3_600_000;
const rowsFor = (b: number): TelemetryInsert[] =>
  Array.from({ length: batchSize }, (_, k) => {
    const i = b * batchSize + k;
    return toTelemetryRow(vehicleId(i), fullSample(i, 0), start + Math.floor(i / VEHICLES) * 1000, new Date());
  });

async function bulk(mode: 'unnest' | 'copy'): Promise<number> {
  return withFreshDb(`sf_measure_${mode}_${process.pid}`, async (url) => {
    const database = createDatabase(url, { max: 2, ...quiet });
    const repo = new TelemetryRepository(database.db);
    const data = Array.from({ length: batches }, (_, b) => rowsFor(b));
    await (mode === 'unnest' ? repo.insertBatch(rowsFor(batches + 1)) : repo.copyBatch(rowsFor(batches + 1))); // warm-up
    const t = performance.now();
    for (const rows of data) {
      // Both in their own transaction, as the pipeline would commit them.
      if (mode === 'unnest') await database.db.transaction().execute((trx) => new TelemetryRepository(trx).insertBatch(rows));
      else await repo.copyBatch(rows);
    }
    const rate = (batches * batchSize) / ((performance.now() - t) / 1000);
    await database.close();
    return rate;
  });
}

async function pipelineRate(telemetryWrite: 'copy' | 'unnest'): Promise<number> {
  return withFreshDb(`sf_measure_pipeline_${process.pid}`, async (url) => {
    const database = createDatabase(url, { max: 4, ...quiet });
    await database.db.insertInto('tenants').values({ id: 't', name: 't' }).execute();
    await database.db
      .insertInto('vehicles')
      .values(Array.from({ length: VEHICLES }, (_, i) => ({ id: vehicleId(i), tenant_id: 't', type: 'road_sweeper', body_type: 'sweeper', powertrain: 'bev' })))
      .execute();
    const pipeline = new IngestionPipeline(database.db, { logger: pino({ level: 'silent' }), telemetryWrite });
    const total = batches * batchSize;
    const payloads = Array.from({ length: total }, (_, i) => Buffer.from(JSON.stringify(fullSample(i, start + Math.floor(i / VEHICLES) * 1000))));
    const t = performance.now();
    const all: Promise<void>[] = [];
    for (let i = 0; i < total; i++) {
      const vid = vehicleId(i);
      all.push(pipeline.ingest({ vehicleId: vid, channel: 'telemetry', topic: `fleet/${vid}/telemetry`, payload: payloads[i]!, receivedAt: new Date() }));
      if (i % 5000 === 0) await new Promise((r) => setImmediate(r));
    }
    await Promise.all(all);
    const rate = total / ((performance.now() - t) / 1000);
    await pipeline.close();
    await database.close();
    return rate;
  });
}

const result: Record<string, number[]> = { unnestRowsPerS: [], copyRowsPerS: [], pipelineUnnestMsgPerS: [], pipelineCopyMsgPerS: [] };
for (let r = 0; r < rounds; r++) {
  result.unnestRowsPerS!.push(Math.round(await bulk('unnest')));
  result.copyRowsPerS!.push(Math.round(await bulk('copy')));
}
for (let r = 0; r < rounds; r++) {
  result.pipelineUnnestMsgPerS!.push(Math.round(await pipelineRate('unnest')));
  result.pipelineCopyMsgPerS!.push(Math.round(await pipelineRate('copy')));
}
const load = (await import('node:os')).loadavg()[0]!.toFixed(1);
console.log(JSON.stringify({ server: new URL(adminUrl).port, batches, batchSize, ...result, loadavg1: load }));
