// `npm run bench -- <scenario> [--quick]`: runs one benchmark scenario and its baselines side by side on a scratch
// database of the DATABASE_URL server, prints a table and writes bench/results/<scenario>.json.
import 'reflect-metadata';
import { connectionsScenario } from './scenarios/connections.js';
import { energyScenario } from './scenarios/energy.js';
import { fleetStatusScenario } from './scenarios/fleet-status.js';
import { ingestScenario } from './scenarios/ingest.js';
import { latencyScenario } from './scenarios/latency.js';
import { printTable, type Scenario, writeResult } from './lib/scenario.js';
import { createScratchDatabase, type ScratchDatabase } from './lib/scratch-db.js';
import { adminDatabaseUrl, sqlTraceReport } from './lib/stack.js';
import { machineInfo, Progress } from './lib/util.js';

const SCENARIOS: readonly Scenario[] = [ingestScenario, latencyScenario, fleetStatusScenario, energyScenario, connectionsScenario];

function usage(): string {
  return [
    'usage: npm run bench -- <scenario|all> [--quick] [--no-baselines]',
    '',
    ...SCENARIOS.map((s) => `  ${s.name.padEnd(14)}${s.summary}`),
    '',
    'DATABASE_URL: an admin/owner URL of a TimescaleDB or PostgreSQL server; each scenario creates, migrates and drops',
    'its own scratch database there. Results: bench/results/<scenario>.json.',
  ].join('\n');
}

async function runOne(scenario: Scenario, adminUrl: string, quick: boolean, skipBaselines: boolean): Promise<void> {
  const progress = new Progress();
  const startedAt = new Date();
  progress.done(`${scenario.name}${quick ? ' (quick)' : ''}: creating and migrating a scratch database`);
  const scratch: ScratchDatabase = await createScratchDatabase(adminUrl, scenario.name);
  const dropOnSignal = (): void => {
    process.stderr.write(`\ninterrupted: dropping ${scratch.name}\n`);
    void scratch.drop().finally(() => process.exit(130));
  };
  process.once('SIGINT', dropOnSignal);
  process.once('SIGTERM', dropOnSignal);
  try {
    progress.done(`${scenario.name}: ${scratch.backendDescription}`);
    const outcome = await scenario.run({ quick, skipBaselines, scratch, progress });
    const result = {
      scenario: scenario.name,
      quick,
      baselines_run: !skipBaselines,
      started_at: startedAt.toISOString(),
      duration_s: Math.round((Date.now() - startedAt.getTime()) / 100) / 10,
      backend: scratch.backend.backend,
      backend_description: scratch.backendDescription,
      machine: machineInfo(),
      command: `npm run bench -- ${scenario.name}${quick ? ' --quick' : ''}`,
      ...outcome.fields,
      notes: outcome.notes,
    };
    printTable(`${scenario.name}${quick ? ' (quick)' : ''} on ${scratch.backendDescription}`, outcome.table);
    for (const n of outcome.notes) process.stdout.write(`  · ${n}\n`);
    if (process.argv.includes('--trace-sql')) process.stdout.write(`\nSQL time by statement (client side, --trace-sql):\n${sqlTraceReport().join('\n')}\n`);
    const file = writeResult(scenario.name, result);
    process.stdout.write(`wrote ${file} (${result.duration_s} s)\n`);
  } finally {
    process.off('SIGINT', dropOnSignal);
    process.off('SIGTERM', dropOnSignal);
    await scratch.drop();
  }
}

async function main(argv: string[]): Promise<number> {
  const quick = argv.includes('--quick');
  const names = argv.filter((a) => !a.startsWith('--'));
  if (names.length !== 1) {
    process.stderr.write(`${usage()}\n`);
    return 64;
  }
  const chosen = names[0] === 'all' ? SCENARIOS : SCENARIOS.filter((s) => s.name === names[0]);
  if (chosen.length === 0) {
    process.stderr.write(`unknown scenario "${names[0]}"\n\n${usage()}\n`);
    return 64;
  }
  const adminUrl = adminDatabaseUrl();
  if (!adminUrl) {
    process.stderr.write('DATABASE_URL is not set: point it at a TimescaleDB or PostgreSQL server the benchmark may create databases on\n');
    return 78;
  }
  for (const scenario of chosen) await runOne(scenario, adminUrl, quick, argv.includes('--no-baselines'));
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    process.stderr.write(`bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
