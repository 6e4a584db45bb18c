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
