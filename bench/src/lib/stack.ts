// The system under test: specfleet's embedded mode (apps/specfleet startStack: broker with in-process ingestion,
// commit before PUBACK, query API) on the scratch database, configured for the loopback interface and ephemeral ports.
import { type Config, createLogger, loadConfig } from '@fleet/config';
import { poolOf } from '@fleet/db';
import { type Stack, startStack } from '../../../apps/specfleet/src/stack.js';
import { within } from './util.js';

export type ConfigOverrides = Partial<Record<keyof Config, string>>;

/** The configuration the benchmark runs specfleet with: defaults, except loopback, ephemeral ports and warn logging. */
export function benchConfig(databaseUrl: string, overrides: ConfigOverrides = {}): Config {
  // Read through libs/config like every specfleet process; the overrides win over the caller's environment, so a
  // MQTT_PORT exported in the shell cannot make the benchmark collide with a running broker.
  return loadConfig(process.env, {
    DATABASE_URL: databaseUrl,
    MQTT_HOST: '127.0.0.1',
    MQTT_PORT: '0',
    MQTT_WS_PORT: '0',
    HTTP_PORT: '0',
    SIM_VEHICLES: '0',
    MQTT_PERSISTENCE: 'memory',
    // info would log every CONNECT/DISCONNECT: at 10,000 clients that is the benchmark of the logger.
    LOG_LEVEL: 'warn',
    ...overrides,
  });
}

export async function startBenchStack(databaseUrl: string, overrides: ConfigOverrides = {}): Promise<Stack> {
  const config = benchConfig(databaseUrl, overrides);
  const stack = await startStack({ config, databaseUrl, logger: createLogger('specfleet-bench', config.LOG_LEVEL) });
  if (process.argv.includes('--trace-sql') || process.env['SPECFLEET_BENCH_STACK_STATS']) traceSql(stack);
  // stop() waits for the pipeline to write what it admitted, for as long as the database refuses (by design); a
  // benchmark must end anyway, so it gives up after a minute and says so.
  const stop = stack.stop;
  return {
    ...stack,
    stop: () =>
      within(stop(), 60_000, 'specfleet stop').catch((error: unknown) => {
        process.stderr.write(`warning: ${(error as Error).message}; continuing\n`);
      }),
  };
}

/** The DATABASE_URL the benchmark was given (an admin/owner URL of the server to create scratch databases on). */
export function adminDatabaseUrl(): string | undefined {
  return loadConfig(process.env, { LOG_LEVEL: 'warn' }).DATABASE_URL;
}

/** The pipeline's own counters since it started: batches, samples in them, total commit time, hours recomputed. */
export async function pipelineTotals(stack: Stack): Promise<{ batches: number; samples: number; commitMs: number; recomputedHours: number }> {
  const m = stack.pipeline.metrics;
  const sumCount = async (h: { get(): Promise<{ values: Array<{ metricName?: string; value: number }> }> }): Promise<[number, number]> => {
    const { values } = await h.get();
    const sum = values.find((v) => v.metricName?.endsWith('_sum'))?.value ?? 0;
    const count = values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;
    return [sum, count];
  };
  const [samples, batches] = await sumCount(m.batchSamples as never);
  const [commitS] = await sumCount(m.commitSeconds as never);
  const recomputedHours = (await m.energyRecomputedHours.get()).values.reduce((a, v) => a + v.value, 0);
  return { batches, samples, commitMs: commitS * 1000, recomputedHours };
}

/** What the pipeline's own metrics say about a run: batches, their size and commit time (explains latency). */
export async function pipelineStats(stack: Stack): Promise<{ batches: number; avg_batch_samples: number; avg_commit_ms: number; energy_recomputed_hours: number }> {
  const t = await pipelineTotals(stack);
  return {
    batches: t.batches,
    avg_batch_samples: t.batches > 0 ? Math.round(t.samples / t.batches) : 0,
    avg_commit_ms: t.batches > 0 ? Math.round((t.commitMs / t.batches) * 10) / 10 : 0,
    energy_recomputed_hours: t.recomputedHours,
  };
}

/** Statement text (first 70 characters, whitespace folded) → [calls, total ms], filled by --trace-sql. */
export const sqlTrace = new Map<string, [number, number]>();

/**
 * --trace-sql: times every statement the stack's pool runs (client side: round trip included), to find which part
 * of a batch transaction the commit time goes to. A diagnostic only: it adds a little overhead per statement.
 */
function traceSql(stack: Stack): void {
  const pool = poolOf(stack.db);
  if (!pool) return;
  pool.on('connect', (client) => {
    const original = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
      const first = args[0] as string | { text?: string } | undefined;
      const text = (typeof first === 'string' ? first : (first?.text ?? 'COPY/stream')).replace(/\s+/g, ' ').trim().slice(0, 70);
      const t0 = performance.now();
      const record = (): void => {
        const e = sqlTrace.get(text) ?? [0, 0];
        e[0]++;
        e[1] += performance.now() - t0;
        sqlTrace.set(text, e);
      };
      // A Submittable with its callback (the ingestion transaction's merged round trips): time it through that.
      const submittable = first as { submit?: unknown; callback?: (...a: unknown[]) => void } | undefined;
      if (typeof submittable?.submit === 'function' && typeof submittable.callback === 'function') {
        const callback = submittable.callback;
        submittable.callback = (...a: unknown[]) => {
          record();
          callback(...a);
        };
      }
      const result = original(...args);
      if (result && typeof (result as Promise<unknown>).then === 'function') (result as Promise<unknown>).then(record, () => undefined);
      return result;
    };
  });
}

export function sqlTraceReport(top = 12): string[] {
  return [...sqlTrace]
    .sort((a, b) => b[1][1] - a[1][1])
    .slice(0, top)
    .map(([text, [calls, ms]]) => `${ms.toFixed(0).padStart(7)} ms ${String(calls).padStart(6)}× ${(ms / calls).toFixed(1).padStart(7)} ms/call  ${text}`);
}
