// Alarms (GB/T 32960 general alarms and the special-vehicle ones of SPEC §3) and diagnostic trouble codes, raised at
// configurable rates and cleared after a while, as v1 event drafts plus the set of DTCs active for the sample.
import type { BodyType, EventKind } from '@fleet/contracts';
import type { Powertrain } from './energy/powertrain.js';
import { probabilityIn, type Rng } from './random.js';

export interface AlarmRates {
  /** Random alarms per vehicle and hour of operation. */
  alarmsPerHour: number;
  /** Share of random alarms raised at level 3 ("stop now"). */
  level3Share: number;
  /** New trouble codes per vehicle and hour. */
  dtcsPerHour: number;
}

export const DEFAULT_ALARM_RATES: AlarmRates = { alarmsPerHour: 0.02, level3Share: 0.1, dtcsPerHour: 0.01 };

export interface EventDraft {
  ts: number;
  kind: EventKind;
  code: string;
  level?: 1 | 2 | 3;
  active?: boolean;
  message?: string;
  data?: Record<string, number | string | boolean>;
}

/** What the alarm logic reads from the vehicle. */
export interface AlarmInputs {
  socPct?: number;
  packTempC?: number;
  h2Kg?: number;
  speedKmh: number;
}

interface AlarmKind {
  code: string;
  applies: (p: Powertrain, body: BodyType) => boolean;
  message: (level: number) => string;
  data?: (rng: Rng) => Record<string, number>;
}

const battery = (p: Powertrain): boolean => p !== 'ice';
const always = (): boolean => true;

const ALARMS: readonly AlarmKind[] = [
  { code: 'TEMP_DIFF', applies: battery, message: () => 'cell temperature difference too large', data: (r) => ({ temp_diff_c: Math.round(r.uniform(8, 16)) }) },
  { code: 'BATTERY_HIGH_TEMP', applies: battery, message: () => 'battery pack over temperature', data: (r) => ({ temp_max_c: Math.round(r.uniform(55, 66)) }) },
  { code: 'PACK_OVERVOLTAGE', applies: battery, message: () => 'pack voltage above limit' },
  { code: 'PACK_UNDERVOLTAGE', applies: battery, message: () => 'pack voltage below limit' },
  { code: 'CELL_OVERVOLTAGE', applies: battery, message: () => 'cell voltage above limit', data: (r) => ({ cell_v_max: Math.round(r.uniform(3.65, 3.8) * 1000) / 1000 }) },
  { code: 'CELL_UNDERVOLTAGE', applies: battery, message: () => 'cell voltage below limit', data: (r) => ({ cell_v_min: Math.round(r.uniform(2.5, 2.8) * 1000) / 1000 }) },
  { code: 'SOC_JUMP', applies: battery, message: () => 'state of charge jumped' },
  { code: 'CELL_INCONSISTENCY', applies: battery, message: () => 'cell voltages inconsistent', data: (r) => ({ cell_v_diff_mv: Math.round(r.uniform(120, 300)) }) },
  { code: 'INSULATION', applies: battery, message: () => 'insulation resistance low', data: (r) => ({ insulation_kohm: Math.round(r.uniform(40, 400)) }) },
  { code: 'DCDC_TEMP', applies: battery, message: () => 'DC-DC converter over temperature' },
  { code: 'DCDC_STATUS', applies: battery, message: () => 'DC-DC converter fault' },
  { code: 'MOTOR_CONTROLLER_TEMP', applies: battery, message: () => 'motor controller over temperature' },
  { code: 'HV_INTERLOCK', applies: battery, message: () => 'high-voltage interlock open' },
  { code: 'MOTOR_TEMP', applies: battery, message: () => 'drive motor over temperature' },
  { code: 'THERMAL_EVENT', applies: battery, message: () => 'battery thermal event' },
  { code: 'BRAKE', applies: always, message: () => 'brake system fault' },
  { code: 'H2_LEAK', applies: (p) => p === 'fcev', message: () => 'hydrogen concentration high', data: (r) => ({ h2_ppm: Math.round(r.uniform(4000, 12000)) }) },
  { code: 'H2_PRESSURE', applies: (p) => p === 'fcev', message: () => 'hydrogen pressure abnormal' },
  { code: 'BODY_FAULT', applies: (_p, b) => b !== 'none', message: () => 'upper-body fault' },
  { code: 'TANK_PRESSURE', applies: (_p, b) => b === 'tanker', message: () => 'cargo tank pressure high', data: (r) => ({ tank_pressure_bar: Math.round(r.uniform(2.6, 3.4) * 10) / 10 }) },
  { code: 'TANK_TEMP', applies: (_p, b) => b === 'tanker', message: () => 'cargo tank temperature high', data: (r) => ({ tank_temp_c: Math.round(r.uniform(45, 60)) }) },
  { code: 'ROLLOVER_RISK', applies: (_p, b) => b === 'tanker' || b === 'ladder', message: () => 'lateral acceleration near rollover limit' },
];

const DTCS: Readonly<Record<Powertrain | 'body', readonly string[]>> = {
  bev: ['P0A80', 'P0AA6', 'P0A7F', 'P1A0C', 'U0111', 'P0C78'],
  fcev: ['P0A80', 'P0AA6', 'P2F00', 'P2F12', 'U0293', 'SPN5678-FMI2'],
  ice: ['SPN520-FMI3', 'SPN3364-FMI1', 'SPN4364-FMI18', 'P0087', 'P2463', 'P0401', 'U0100'],
  phev: ['P0A80', 'P0AA6', 'SPN3364-FMI1', 'P2463', 'P0A0F'],
  body: ['B1A00', 'B1C21', 'SPN1234-FMI5', 'B2F10'],
};

interface Active {
  code: string;
  level?: 1 | 2 | 3;
  kind: 'alarm' | 'dtc';
  untilMs: number;
}

export class AlarmGenerator {
  private readonly active = new Map<string, Active>();
  private readonly catalog: AlarmKind[];
  private readonly dtcs: string[];
  private socLowActive = false;

  constructor(
    private readonly rng: Rng,
    private readonly powertrain: Powertrain,
    private readonly bodyType: BodyType,
    private readonly rates: AlarmRates,
  ) {
    this.catalog = ALARMS.filter((a) => a.applies(powertrain, bodyType));
    this.dtcs = [...DTCS[powertrain], ...(bodyType === 'none' ? [] : DTCS.body)];
  }

  /** Advances `dtS` seconds; returns the events raised or cleared. `awake` vehicles age their faults faster. */
  step(nowMs: number, dtS: number, inputs: AlarmInputs, awake: boolean): EventDraft[] {
    const out: EventDraft[] = [];
    for (const [key, a] of this.active) {
      if (nowMs >= a.untilMs) {
        this.active.delete(key);
        out.push({ ts: nowMs, kind: a.kind, code: a.code, ...(a.level ? { level: a.level } : {}), active: false, message: 'cleared' });
      }
    }
    // Random faults happen mostly while the vehicle works; parked vehicles get a tenth of the rate.
    const weight = awake ? 1 : 0.1;
    if (this.catalog.length > 0 && this.rng.chance(probabilityIn(this.rates.alarmsPerHour * weight, dtS))) {
      const kind = this.rng.pick(this.catalog);
      if (!this.active.has(`A:${kind.code}`)) {
        const level: 1 | 2 | 3 = this.rng.chance(this.rates.level3Share) ? 3 : this.rng.chance(0.6) ? 1 : 2;
        const durationS = level === 3 ? this.rng.uniform(300, 1800) : this.rng.uniform(60, 3600);
        this.active.set(`A:${kind.code}`, { code: kind.code, level, kind: 'alarm', untilMs: nowMs + durationS * 1000 });
        out.push({
          ts: nowMs,
          kind: 'alarm',
          code: kind.code,
          level,
          active: true,
          message: kind.message(level),
          ...(kind.data ? { data: kind.data(this.rng) } : {}),
        });
      }
    }
    if (this.dtcs.length > 0 && this.rng.chance(probabilityIn(this.rates.dtcsPerHour * weight, dtS))) {
      const code = this.rng.pick(this.dtcs);
      if (!this.active.has(`D:${code}`)) {
        const durationS = this.rng.uniform(600, 6 * 3600);
        this.active.set(`D:${code}`, { code, kind: 'dtc', untilMs: nowMs + durationS * 1000 });
        out.push({ ts: nowMs, kind: 'dtc', code, active: true, message: `trouble code ${code} set` });
      }
    }
    // Condition-based: low state of charge is raised and cleared by the value itself, with hysteresis.
    if (inputs.socPct !== undefined && this.powertrain === 'bev') {
      if (!this.socLowActive && inputs.socPct < 10) {
        this.socLowActive = true;
        out.push({ ts: nowMs, kind: 'alarm', code: 'SOC_LOW', level: 2, active: true, message: 'state of charge low', data: { soc_pct: Math.round(inputs.socPct) } });
      } else if (this.socLowActive && inputs.socPct > 15) {
        this.socLowActive = false;
        out.push({ ts: nowMs, kind: 'alarm', code: 'SOC_LOW', level: 2, active: false, message: 'cleared' });
      }
    }
    return out;
  }

  activeDtcs(): string[] {
    const codes: string[] = [];
    for (const a of this.active.values()) if (a.kind === 'dtc') codes.push(a.code);
    return codes.sort();
  }

  /** Whether an alarm is active (the sample shows its effect, e.g. BATTERY_HIGH_TEMP heats the reported pack). */
  isActive(code: string): boolean {
    return this.active.has(`A:${code}`);
  }
}
