// --profile: a V8 CPU profile of this process for the measured window only (not start-up, seeding or baselines),
// written to bench/results/profiles/<scenario>-<phase>.cpuprofile; summarise it with bench/src/profile-summary.ts.
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { fileURLToPath } from 'node:url';

export interface WindowProfiler {
  stop(): Promise<string | undefined>;
}

export async function profileWindow(name: string): Promise<WindowProfiler> {
  if (process.argv.includes('--heap-profile')) return heapWindow(name);
  if (!process.argv.includes('--profile')) return { stop: async () => undefined };
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 500 });
  await session.post('Profiler.start');
  return {
    async stop() {
      const { profile } = await session.post('Profiler.stop');
      session.disconnect();
      return write(`${name}.cpuprofile`, profile);
    },
  };
}

/** --heap-profile: V8's sampling heap profiler (allocations by call site) over the same window. */
async function heapWindow(name: string): Promise<WindowProfiler> {
  const session = new Session();
  session.connect();
  await session.post('HeapProfiler.enable');
  await session.post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true });
  return {
    async stop() {
      const { profile } = await session.post('HeapProfiler.stopSampling');
      session.disconnect();
      return write(`${name}.heapprofile`, profile);
    },
  };
}

function write(fileName: string, profile: unknown): string {
  const dir = fileURLToPath(new URL('../../results/profiles/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${fileName}`;
  writeFileSync(file, JSON.stringify(profile));
  return file;
}
