// Small helpers every scenario uses: percentiles, a progress line, bounded waits, the machine description.
import { cpus, totalmem } from 'node:os';
import { readFileSync } from 'node:fs';

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Wall clock with sub-millisecond resolution, comparable across processes of this machine. */
export const nowMs = (): number => performance.timeOrigin + performance.now();

/** Nearest-rank percentile of unsorted values (0 when empty). */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const round = (n: number, digits = 1): number => {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
};

export const fmtInt = (n: number): string => Math.round(n).toLocaleString('en-US');

/**
 * One line on stderr, rewritten in place on a terminal (a plain line every few seconds otherwise), so the table on
 * stdout stays clean when redirected.
 */
export class Progress {
  private last = 0;
  private readonly tty = process.stderr.isTTY === true;

  update(text: string): void {
    const t = Date.now();
    if (this.tty) {
      process.stderr.write(`\r\x1b[2K${text}`);
    } else if (t - this.last >= 2_000) {
      process.stderr.write(`${text}\n`);
      this.last = t;
    }
  }

  done(text: string): void {
    process.stderr.write(this.tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
    this.last = 0;
  }
}

export interface MachineInfo {
  cpus: number;
  cpu_model: string;
  memory_gb: number;
  node: string;
  platform: string;
  load_avg_at_start: number[];
}

export function machineInfo(): MachineInfo {
  let loadavg: number[] = [];
  try {
    loadavg = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).map(Number);
  } catch {
    // not Linux
  }
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? 'unknown',
    memory_gb: round(totalmem() / 1024 ** 3, 1),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    load_avg_at_start: loadavg,
  };
}

/** Resolves with `promise`, or rejects after `ms` with a message naming what took too long. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls `check` every `everyMs` until it returns true or `ms` have passed; returns whether it did. */
export async function waitUntil(check: () => boolean | Promise<boolean>, ms: number, everyMs = 50): Promise<boolean> {
  const deadline = Date.now() + ms;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await sleep(everyMs);
  }
}

/** CPU time (user + system) and RSS of any process from /proc (the same method for node and mosquitto). */
export interface ProcSample {
  cpuMs: number;
  rssMb: number;
  hwmMb: number;
  at: number;
}

const CLK_TCK = 100; // USER_HZ on Linux

export function procSample(pid: number): ProcSample {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key: string): number => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? 0);
  return { cpuMs: ((utime + stime) * 1000) / CLK_TCK, rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024, at: Date.now() };
}

/** CPU share of one core between two samples, in percent (100 = one core busy). */
export function cpuPercent(a: ProcSample, b: ProcSample): number {
  const wall = b.at - a.at;
  return wall > 0 ? (100 * (b.cpuMs - a.cpuMs)) / wall : 0;
}

/** Whole-machine CPU busy share between two /proc/stat readings, in percent of all cores. */
export function machineCpu(): { busy: number; total: number } {
  const line = readFileSync('/proc/stat', 'utf8').split('\n')[0]!;
  const v = line.trim().split(/\s+/).slice(1).map(Number);
  const idle = (v[3] ?? 0) + (v[4] ?? 0);
  const total = v.reduce((a, b) => a + b, 0);
  return { busy: total - idle, total };
}
