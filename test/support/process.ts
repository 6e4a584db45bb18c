// Runs a specfleet process the way a user does (node + the SWC loader, or the compiled output `npm start` runs), and
// reads its output.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface RunningProcess {
  child: ChildProcess;
  output(): string;
  /** Resolves with the first match of `pattern` in stdout+stderr, or rejects after `timeoutMs` or on exit. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<RegExpMatchArray>;
  /** Resolves with the exit code (or the signal name). */
  exited: Promise<number | string>;
}

/** `detached`: the process leads a process group of its own, so a test can signal the group as a terminal's Ctrl-C does. */
export function startProcess(entry: string, env: Record<string, string>, args: readonly string[] = [], options: { detached?: boolean } = {}): RunningProcess {
  return run(['--import', './scripts/register.mjs', entry, ...args], env, options.detached ?? false);
}

/** What `npm start` does: compile to dist/ (scripts/build.mjs), then run the compiled entry without the loader. */
export function startCompiled(entry: string, env: Record<string, string>, args: readonly string[] = []): RunningProcess {
  execFileSync(process.execPath, ['scripts/build.mjs', '--quiet'], { cwd: ROOT, stdio: 'inherit' });
  return run([`dist/${entry.replace(/\.ts$/, '.js')}`, ...args], env);
}

function run(nodeArgs: readonly string[], env: Record<string, string>, detached = false): RunningProcess {
  const child = spawn(process.execPath, nodeArgs, {
    cwd: ROOT,
    detached,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const listeners = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    output += chunk.toString('utf8');
    for (const listener of listeners) listener();
  };
  child.stdout?.on('data', onData);
  child.stderr?.on('data', onData);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  return {
    child,
    output: () => output,
    exited,
    waitFor: (pattern, timeoutMs) =>
      new Promise((resolve, reject) => {
        const check = (): void => {
          const match = output.match(pattern);
          if (match) {
            cleanup();
            resolve(match);
          }
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; output:\n${output.slice(-4000)}`));
        }, timeoutMs);
        const cleanup = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        void exited.then((code) => {
          cleanup();
          reject(new Error(`process exited (${code}) before ${pattern}; output:\n${output.slice(-4000)}`));
        });
        listeners.add(check);
        check();
      }),
  };
}
