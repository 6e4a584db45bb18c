// What a scenario is, and the table/JSON every scenario ends with.
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ScratchDatabase } from './scratch-db.js';
import type { Progress } from './util.js';

export interface ScenarioContext {
  quick: boolean;
  /** --no-baselines: the specfleet part only (for profiling with --cpu-prof); ratios are then missing. */
  skipBaselines: boolean;
  scratch: ScratchDatabase;
  progress: Progress;
}

export interface ScenarioOutcome {
  /** The JSON fields of the table (and any extra figures). */
  fields: Record<string, unknown>;
  /** Rows of the printed table: what, specfleet, baseline, ratio. */
  table: Array<{ metric: string; specfleet: string; baseline?: string; ratio?: string; target?: string }>;
  /** How it was measured, what to keep in mind when reading it. */
  notes: string[];
}

export interface Scenario {
  name: string;
  summary: string;
  run(ctx: ScenarioContext): Promise<ScenarioOutcome>;
}

export function printTable(title: string, rows: ScenarioOutcome['table']): void {
  const headers = ['metric', 'specfleet', 'baseline', 'ratio', 'target'] as const;
  const cells = rows.map((r) => [r.metric, r.specfleet, r.baseline ?? '', r.ratio ?? '', r.target ?? '']);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: readonly string[]): string => c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join('  ');
  process.stdout.write(`\n${title}\n${line(headers)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}\n`);
  for (const c of cells) process.stdout.write(`${line(c)}\n`);
}

export function writeResult(scenario: string, result: Record<string, unknown>): string {
  const dir = fileURLToPath(new URL('../../results/', import.meta.url));
  mkdirSync(dir, { recursive: true });
  const file = `${dir}${scenario}.json`;
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  return file;
}

export const ratio = (a: number, b: number): number => (b > 0 ? a / b : Number.NaN);
export const fmtRatio = (r: number): string => (Number.isFinite(r) ? `${r >= 10 ? r.toFixed(0) : r.toFixed(2)}×` : 'n/a');
export const fmtMs = (ms: number): string => (ms >= 100 ? `${ms.toFixed(0)} ms` : `${ms.toFixed(2)} ms`);
