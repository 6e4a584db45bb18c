// The system under test in a process of its own (connections scenario), so the RSS and CPU measured are specfleet's
// alone: startStack on the database in SPECFLEET_BENCH_DB, reporting its MQTT port over IPC, stopping on request.
import 'reflect-metadata';
import { startBenchStack } from '../lib/stack.js';

const url = process.env['SPECFLEET_BENCH_DB'];
if (!url) {
  process.stderr.write('specfleet-stack: SPECFLEET_BENCH_DB is not set\n');
  process.exit(64);
}
const stack = await startBenchStack(url, { MQTT_MAX_CONNECTIONS: '50000' });
process.send?.({ type: 'ready', mqttPort: stack.mqttPort, httpPort: stack.httpPort });
let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  void stack.stop().finally(() => process.exit(0));
};
process.on('message', (m: { type?: string }) => {
  if (m.type === 'stop') stop();
  if (m.type === 'memory') {
    // Where the resident memory is: V8 heap (live objects), external/array buffers (socket and packet buffers).
    const before = process.memoryUsage();
    (globalThis as { gc?: () => void }).gc?.();
    const after = process.memoryUsage();
    process.send?.({ type: 'memory', before, afterGc: after });
  }
});
process.on('disconnect', stop);
process.on('SIGTERM', stop);
// SPECFLEET_BENCH_STACK_STATS=1: once a second, what the pipeline did (batches, size, commit time, pending) and which
// statements the time went to (--trace-sql's timing, per interval) — for finding out why a run falls behind.
if (process.env['SPECFLEET_BENCH_STACK_STATS']) {
  const { pipelineTotals, sqlTrace } = await import('../lib/stack.js');
  let prev = { batches: 0, samples: 0, commitMs: 0 };
  const prevSql = new Map<string, number>();
  setInterval(() => {
    void pipelineTotals(stack).then((t) => {
      const db = t.batches - prev.batches;
      const top = [...sqlTrace].map(([k, [n, ms]]) => [k, ms - (prevSql.get(k) ?? 0), n] as const).sort((a, b) => b[1] - a[1]).slice(0, 5).map(([k, ms]) => `${Math.round(ms)}ms ${k.slice(0, 30)}`);
      for (const [k, [, ms]] of sqlTrace) prevSql.set(k, ms);
      process.stderr.write(`stack stats: +${db} batches, ${db ? Math.round((t.samples - prev.samples) / db) : 0} samples/batch, ${db ? Math.round((t.commitMs - prev.commitMs) / db) : 0} ms/commit, pending=${stack.pipeline.pending} waiting=${stack.pipeline.waiting} | ${top.join(' | ')}\n`);
      prev = t;
    });
  }, 1000).unref();
}
