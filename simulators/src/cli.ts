// `npm run sim -- …`: a simulated special-vehicle fleet against any MQTT broker (live or history backfill), with
// fault injection. Run with --help for the options.
import { parseArgs } from 'node:util';
import { formatDuration, parseDuration } from './duration.js';
import type { FaultRates } from './faults.js';
import { fleetDefinition } from './fleet-definition.js';
import { runBackfill, startFleet, type BackfillProgress, type FleetOptions, type FleetStats } from './fleet.js';
import { loadCredentialsFile, provisionVehicles, saveCredentialsFile, type CredentialMap } from './provision.js';
import { VEHICLE_CLASSES } from './vehicles/index.js';

export const USAGE = `Usage: npm run sim -- [options]

Fleet
  --vehicles N              fleet size (default: one of every class × powertrain, ${VEHICLE_CLASSES.reduce((n, c) => n + c.powertrains.length, 0)} vehicles)
  --mix SPEC                class[:powertrain]=count,…  e.g. sweeper=10,bus:fcev=5,reefer=3
                            classes: ${VEHICLE_CLASSES.map((c) => `${c.alias} (${c.powertrains.join('/')})`).join(', ')}
                            with --vehicles the counts are weights scaled to N
  --seed S                  same seed, same fleet, same data (default 1)
  --id-prefix P             vehicle ids P-SWP-0001 … (default SZ)
  --list                    print the fleet (id, type, body type, powertrain) as JSON lines and exit

Time
  --speed X                 simulated seconds per real second (default 1)
  --start ISO               simulated start time (default: now; with --speed > 1 in the past: with --duration so the
                            run ends now, else (speed − 1) hours back, at most a day); simulated time never passes the clock
  --duration D              stop after D of real time, e.g. 90s, 10m, 2h (default: until Ctrl-C)
  --interval S              seconds between samples (default 10; 60 in backfill)
  --backfill D              publish D of history (e.g. 30d) as fast as the broker acknowledges it, then exit
  --window N                backfill: messages awaiting PUBACK across the fleet (default 256)

Broker and credentials
  --url URL                 broker (default mqtt://127.0.0.1:1883)
  --credentials FILE        JSON: vehicle id → secret (or {password, username, client_id, host, port})
  --password SECRET         one secret for vehicles not in --credentials (anonymous test brokers)
  --provision URL           create the vehicles through POST URL/api/v1/vehicles first (needs --admin-key)
  --admin-key KEY           admin API key for --provision
  --save-credentials FILE   write the provisioned credentials to FILE (mode 600) for the next run
  --buffer N                store-and-forward capacity per vehicle, samples (default 5000)

Faults (probabilities 0..1)
  --malformed P             extra malformed message per sample
  --duplicate P             sample sent twice
  --out-of-order P          sample swapped with the next one
  --late P                  sample held back 5–60 samples
  --clock-skew P            share of vehicles whose clock is off (by up to --clock-skew-max, default 10m)
  --counter-reset P         energy counters restart from zero
  --oversize P              extra packet over --oversize-bytes (default 307200)
  --wrong-credentials P     connection attempt with a wrong password
  --alarm-rate R            random alarms per vehicle-hour (default 0.02)
  --level3-share P          share of alarms at GB/T 32960 level 3 (default 0.1)
  --dtc-rate R              new trouble codes per vehicle-hour (default 0.01)

  -h, --help                this text
`;

const OPTIONS = {
  vehicles: { type: 'string' },
  mix: { type: 'string' },
  seed: { type: 'string' },
  'id-prefix': { type: 'string' },
  list: { type: 'boolean' },
  speed: { type: 'string' },
  start: { type: 'string' },
  duration: { type: 'string' },
  interval: { type: 'string' },
  backfill: { type: 'string' },
  window: { type: 'string' },
  url: { type: 'string' },
  credentials: { type: 'string' },
  password: { type: 'string' },
  provision: { type: 'string' },
  'admin-key': { type: 'string' },
  'save-credentials': { type: 'string' },
  buffer: { type: 'string' },
  malformed: { type: 'string' },
  duplicate: { type: 'string' },
  'out-of-order': { type: 'string' },
  late: { type: 'string' },
  'clock-skew': { type: 'string' },
  'clock-skew-max': { type: 'string' },
  'counter-reset': { type: 'string' },
  oversize: { type: 'string' },
  'oversize-bytes': { type: 'string' },
  'wrong-credentials': { type: 'string' },
  'alarm-rate': { type: 'string' },
  'level3-share': { type: 'string' },
  'dtc-rate': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface CliPlan {
  help: boolean;
  list: boolean;
  fleet: FleetOptions;
  backfillMs?: number;
  window?: number;
  credentialsFile?: string;
  provision?: { apiUrl: string; adminKey: string; saveTo?: string };
}

function num(name: string, value: string | undefined, check: (n: number) => boolean, what: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || !check(n)) throw new RangeError(`--${name}: ${JSON.stringify(value)} is not ${what}`);
  return n;
}

const probability = (name: string, v: string | undefined) => num(name, v, (n) => n >= 0 && n <= 1, 'a probability between 0 and 1');

/** Turns argv into a validated plan; throws RangeError with a message for the user. Pure, for tests. */
export function parseCli(argv: readonly string[]): CliPlan {
  const { values: v } = parseArgs({ args: [...argv], options: OPTIONS, strict: true, allowPositionals: false });
  const faults: Partial<FaultRates> = {};
  const setFault = (key: keyof FaultRates, value: number | undefined): void => {
    if (value !== undefined) faults[key] = value;
  };
  setFault('malformed', probability('malformed', v.malformed));
  setFault('duplicate', probability('duplicate', v.duplicate));
  setFault('outOfOrder', probability('out-of-order', v['out-of-order']));
  setFault('late', probability('late', v.late));
  setFault('clockSkew', probability('clock-skew', v['clock-skew']));
  if (v['clock-skew-max'] !== undefined) faults.clockSkewMaxS = parseDuration(v['clock-skew-max']) / 1000;
  setFault('counterReset', probability('counter-reset', v['counter-reset']));
  setFault('oversize', probability('oversize', v.oversize));
  setFault('oversizeBytes', num('oversize-bytes', v['oversize-bytes'], (n) => n > 0, 'a byte count'));
  setFault('wrongCredentials', probability('wrong-credentials', v['wrong-credentials']));
  const alarms: FleetOptions['alarms'] = {};
  const alarmRate = num('alarm-rate', v['alarm-rate'], (n) => n >= 0, 'a rate ≥ 0');
  if (alarmRate !== undefined) alarms.alarmsPerHour = alarmRate;
  const level3 = probability('level3-share', v['level3-share']);
  if (level3 !== undefined) alarms.level3Share = level3;
  const dtcRate = num('dtc-rate', v['dtc-rate'], (n) => n >= 0, 'a rate ≥ 0');
  if (dtcRate !== undefined) alarms.dtcsPerHour = dtcRate;

  const count = num('vehicles', v.vehicles, (n) => Number.isInteger(n) && n >= 0, 'a whole number');
  const speed = num('speed', v.speed, (n) => n > 0, 'a positive number');
  const interval = num('interval', v.interval, (n) => Number.isInteger(n) && n >= 1, 'a whole number of seconds ≥ 1');
  const buffer = num('buffer', v.buffer, (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
  const window = num('window', v.window, (n) => Number.isInteger(n) && n >= 1, 'a whole number ≥ 1');
  let startMs: number | undefined;
  if (v.start !== undefined) {
    startMs = Date.parse(v.start);
    if (!Number.isFinite(startMs)) throw new RangeError(`--start: ${JSON.stringify(v.start)} is not an ISO-8601 time`);
  }
  if (v.provision !== undefined && v['admin-key'] === undefined) throw new RangeError('--provision needs --admin-key');
  const url = v.url ?? 'mqtt://127.0.0.1:1883';
  if (!/^(mqtts?|wss?|tcp):\/\//.test(url)) throw new RangeError(`--url: ${JSON.stringify(url)} is not an mqtt://, mqtts://, ws:// or wss:// URL`);
  const fleet: FleetOptions = {
    url,
    seed: v.seed ?? '1',
    ...(count !== undefined ? { count } : {}),
    ...(v.mix !== undefined ? { mix: v.mix } : {}),
    ...(v['id-prefix'] !== undefined ? { idPrefix: v['id-prefix'] } : {}),
    ...(speed !== undefined ? { speed } : {}),
    ...(startMs !== undefined ? { startMs } : {}),
    ...(v.duration !== undefined ? { durationMs: parseDuration(v.duration) } : {}),
    ...(interval !== undefined ? { reportIntervalS: interval } : {}),
    ...(v.password !== undefined ? { password: v.password } : {}),
    ...(buffer !== undefined ? { bufferCapacity: buffer } : {}),
    faults,
    alarms,
  };
  // Resolve the fleet now so a bad --mix fails before anything connects.
  fleet.vehicles = fleetDefinition(fleet.seed ?? '1', fleet.count, fleet.mix, fleet.idPrefix ? { idPrefix: fleet.idPrefix } : {});
  return {
    help: v.help === true,
    list: v.list === true,
    fleet,
    ...(v.backfill !== undefined ? { backfillMs: parseDuration(v.backfill) } : {}),
    ...(window !== undefined ? { window } : {}),
    ...(v.credentials !== undefined ? { credentialsFile: v.credentials } : {}),
    ...(v.provision !== undefined
      ? { provision: { apiUrl: v.provision, adminKey: v['admin-key'] as string, ...(v['save-credentials'] ? { saveTo: v['save-credentials'] } : {}) } }
      : {}),
  };
}

const err = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

function progressLine(p: BackfillProgress): string {
  const width = 30;
  const filled = Math.round(p.fraction * width);
  const rate = p.samplesAcked / Math.max(0.001, p.elapsedMs / 1000);
  const eta = p.fraction > 0.001 ? formatDuration((p.elapsedMs * (1 - p.fraction)) / p.fraction) : '?';
  return `backfill [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(p.fraction * 100).toFixed(1)}%  ${p.samplesAcked.toLocaleString('en')} samples acked  ${Math.round(rate).toLocaleString('en')}/s  ${p.stats.connected}/${p.stats.vehicles} connected  ETA ${eta}`;
}

function summary(s: FleetStats): string {
  const f = s.faults;
  const injected = Object.entries(f)
    .filter(([, n]) => n > 0)
    .map(([k, n]) => `${k}=${n}`)
    .join(' ');
  return [
    `  vehicles        ${s.vehicles} (${s.connected} connected at the end)`,
    `  simulated up to ${s.simTime}`,
    `  samples         ${s.samplesGenerated.toLocaleString('en')} generated, ${s.samplesAcked.toLocaleString('en')} acknowledged, ${s.buffered} still buffered, ${s.dropped} dropped (buffer full)`,
    `  events          ${s.eventsGenerated.toLocaleString('en')} generated, ${s.eventsAcked.toLocaleString('en')} acknowledged`,
    `  messages        ${s.messagesAcked.toLocaleString('en')} acknowledged, ${(s.bytesAcked / 1048576).toFixed(1)} MiB`,
    `  connections     ${s.connects} established, ${s.failedConnects} failed attempts`,
    `  faults injected ${injected || 'none'}`,
  ].join('\n');
}

export async function main(argv: readonly string[]): Promise<number> {
  let plan: CliPlan;
  try {
    plan = parseCli(argv);
  } catch (error) {
    err(`sim: ${(error as Error).message}\n`);
    err(USAGE);
    return 2;
  }
  if (plan.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  const vehicles = plan.fleet.vehicles ?? [];
  if (plan.list) {
    for (const v of vehicles) process.stdout.write(`${JSON.stringify(v)}\n`);
    return 0;
  }
  let credentials: CredentialMap = {};
  if (plan.credentialsFile) credentials = await loadCredentialsFile(plan.credentialsFile);
  if (plan.provision) {
    // Registered with the interval the fleet will report at, so a vehicle reporting every 60 s is not shown `stale`.
    const provisioned = await provisionVehicles(vehicles, {
      apiUrl: plan.provision.apiUrl,
      adminKey: plan.provision.adminKey,
      log: err,
      ...(plan.fleet.reportIntervalS !== undefined ? { reportIntervalS: plan.fleet.reportIntervalS } : {}),
    });
    credentials = { ...credentials, ...provisioned };
    if (plan.provision.saveTo) await saveCredentialsFile(plan.provision.saveTo, credentials);
  }
  const fleet: FleetOptions = { ...plan.fleet, credentials, log: (m) => err(`sim: ${m}`) };
  const tty = process.stderr.isTTY === true;

  if (plan.backfillMs !== undefined) {
    if (plan.backfillMs > 35 * 86_400_000) {
      err('sim: note — ingestion accepts samples up to TS_MAX_AGE_DAYS old (35 by default) and dead-letters older ones as TS_TOO_OLD; raise it for a longer backfill');
    }
    err(`sim: backfilling ${formatDuration(plan.backfillMs)} of history for ${vehicles.length} vehicles → ${fleet.url}`);
    let lastPrint = 0;
    const result = await runBackfill({
      ...fleet,
      spanMs: plan.backfillMs,
      ...(plan.window !== undefined ? { window: plan.window } : {}),
      onProgress: (p) => {
        // One line rewritten in place on a terminal; a line every 10 s when stderr is a file or a pipe.
        if (tty) process.stderr.write(`\r${progressLine(p)}\u001b[K`);
        else if (p.elapsedMs - lastPrint >= 10_000) {
          lastPrint = p.elapsedMs;
          err(progressLine(p));
        }
      },
    });
    if (tty) process.stderr.write('\n');
    err(`sim: backfill of ${result.from} … ${result.to} done in ${formatDuration(result.elapsedMs)} (${Math.round(result.samplesPerSecond).toLocaleString('en')} samples/s)`);
    err(summary(result));
    return result.buffered > 0 ? 1 : 0;
  }

  err(`sim: ${vehicles.length} vehicles → ${fleet.url} at ${fleet.speed ?? 1}× ${fleet.durationMs !== undefined ? `for ${formatDuration(fleet.durationMs)}` : 'until Ctrl-C'}`);
  const handle = startFleet(fleet);
  const onSignal = (): void => void handle.stop();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  const status = setInterval(() => {
    const s = handle.stats();
    const line = `sim: ${s.connected}/${s.vehicles} connected  sim time ${s.simTime}  ${s.samplesAcked.toLocaleString('en')} samples acked  ${s.buffered} buffered`;
    if (tty) process.stderr.write(`\r${line}\u001b[K`);
  }, 1000);
  const final = await handle.done;
  clearInterval(status);
  if (tty) process.stderr.write('\n');
  err('sim: stopped');
  err(summary(final));
  return 0;
}

// Run when executed directly (not when imported by tests).
if (import.meta.url === `file://${process.argv[1]}` || process.argv[1]?.endsWith('simulators/src/cli.ts')) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (error: unknown) => {
      err(`sim: ${(error as Error).stack ?? String(error)}`);
      process.exit(1);
    },
  );
}
