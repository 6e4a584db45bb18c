// Starting the benchmark's child processes (load generators, the broker under test), and talking to them over IPC
// with bounded waits. They run the compiled output in dist/ (scripts/build.mjs), as `npm start` does: the on-the-fly
// TypeScript loader alone keeps ~120 MB of RSS resident, which would be counted as specfleet's memory.
import { type ChildProcess, execFileSync, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { HttpJob, HttpMessage, HttpReport } from '../children/http-client.js';
import type { ConnectReport, LoadJob, LoadMessage } from '../children/mqtt-load.js';

const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
let built = false;

export function forkTs(relativeToChildren: string, env: Record<string, string> = {}, execArgv: string[] = []): ChildProcess {
  if (!built) {
    execFileSync(process.execPath, ['scripts/build.mjs', '--quiet'], { cwd: ROOT, stdio: 'inherit' });
    built = true;
  }
  const file = `${ROOT}dist/bench/src/children/${relativeToChildren.replace(/\.ts$/, '.js')}`;
  return fork(file, [], {
    execArgv: [...execArgv, ...(process.env['BENCH_CHILD_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir=bench/results/profiles'] : [])],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

export interface LoadGenerator {
  child: ChildProcess;
  pid: number;
  connected: Promise<ConnectReport>;
  result: Promise<Extract<LoadMessage, { type: 'result' }>>;
}

/** Forks one load generator and hands it its job; `onProgress` gets its progress lines. */
export function startLoadGenerator(job: LoadJob, onProgress: (text: string) => void): LoadGenerator {
  const child = forkTs('mqtt-load.ts');
  let onConnected!: (r: ConnectReport) => void;
  let onResult!: (r: Extract<LoadMessage, { type: 'result' }>) => void;
  let onError!: (e: Error) => void;
  // 'close', not 'exit' (as in runHttpClient): 'exit' may come before the IPC channel has delivered the last messages
  // the child sent, its result among them. A child that cannot be started at all emits 'error' (and perhaps no 'close').
  const connected = new Promise<ConnectReport>((resolve, reject) => {
    onConnected = resolve;
    child.once('close', (code) => reject(new Error(`load generator exited (${code}) before connecting`)));
    child.once('error', reject);
  });
  const result = new Promise<Extract<LoadMessage, { type: 'result' }>>((resolve, reject) => {
    onResult = resolve;
    onError = reject;
    child.once('close', (code) => reject(new Error(`load generator exited (${code}) without a result`)));
    child.once('error', reject);
  });
  connected.catch(() => undefined);
  result.catch(() => undefined);
  child.on('message', (m: LoadMessage) => {
    if (m.type === 'progress') onProgress(m.text);
    else if (m.type === 'connected') onConnected(m);
    else if (m.type === 'result') onResult(m);
    else if (m.type === 'error') onError(new Error(`load generator: ${m.message}`));
  });
  child.send(job);
  return { child, pid: child.pid!, connected, result };
}

/**
 * Runs `job` in an HTTP client process of its own (see children/http-client.ts) and returns its timings; gives up
 * (and kills it) after `timeoutMs`.
 */
export function runHttpClient(job: HttpJob, timeoutMs = 600_000): Promise<HttpReport> {
  const child = forkTs('http-client.ts');
  return new Promise<HttpReport>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`HTTP client: no result within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const settle = (f: () => void): void => {
      clearTimeout(timer);
      f();
    };
    child.on('message', (m: HttpMessage) => settle(() => (m.type === 'result' ? resolve(m) : reject(new Error(`HTTP client: ${m.message}`)))));
    child.once('error', (error) => settle(() => reject(error)));
    // 'close', not 'exit': it comes after the IPC channel has delivered every message the child sent.
    child.once('close', (code) => settle(() => reject(new Error(`HTTP client exited (${code}) without a result`))));
    child.send(job);
  });
}

/** Ends a child we started: SIGTERM, then SIGKILL after `graceMs`. */
export async function endChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
