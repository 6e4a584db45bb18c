// Starting the benchmark's child processes (load generators, the broker under test) with the same TypeScript loader
// as the parent, and talking to them over IPC with bounded waits.
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { ConnectReport, LoadJob, LoadMessage } from '../children/mqtt-load.js';

const REGISTER = fileURLToPath(new URL('../../../scripts/register.mjs', import.meta.url));

export function forkTs(relativeToChildren: string, env: Record<string, string> = {}, execArgv: string[] = []): ChildProcess {
  const file = fileURLToPath(new URL(`../children/${relativeToChildren}`, import.meta.url));
  return fork(file, [], {
    execArgv: ['--import', REGISTER, ...execArgv, ...(process.env['BENCH_CHILD_CPU_PROF'] ? ['--cpu-prof', '--cpu-prof-dir=bench/results/profiles'] : [])],
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
  const connected = new Promise<ConnectReport>((resolve, reject) => {
    onConnected = resolve;
    child.once('exit', (code) => reject(new Error(`load generator exited (${code}) before connecting`)));
  });
  const result = new Promise<Extract<LoadMessage, { type: 'result' }>>((resolve, reject) => {
    onResult = resolve;
    onError = reject;
    child.once('exit', (code) => reject(new Error(`load generator exited (${code}) without a result`)));
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

/** Ends a child we started: SIGTERM, then SIGKILL after `graceMs`. */
export async function endChild(child: ChildProcess, graceMs = 5_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(timer);
}
