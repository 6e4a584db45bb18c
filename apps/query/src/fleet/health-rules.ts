// The health rules of GET /api/v1/fleet/health: each looks at one vehicle's latest snapshot (vehicle_state + the
// registry) and may give a reason with a severity; the vehicle's grade is the worst severity among its reasons.
import type { HealthThresholds } from '../query.options.js';
import type { Connectivity } from './connectivity.js';

export type Grade = 'ok' | 'warn' | 'critical';
export type Severity = Exclude<Grade, 'ok'>;

export const HEALTH_RULES = ['battery_hot', 'cell_imbalance', 'low_soh', 'low_energy', 'active_alarm', 'active_dtc', 'offline_too_long'] as const;
export type HealthRule = (typeof HEALTH_RULES)[number];

/** Rules that count as "battery warnings" in the fleet summary. */
export const BATTERY_RULES: ReadonlySet<HealthRule> = new Set(['battery_hot', 'cell_imbalance', 'low_soh']);

export interface HealthReason {
  rule: HealthRule;
  severity: Severity;
  message: string;
  /** The reading that tripped the rule, and the threshold it crossed. */
  value: number | string | null;
  threshold: number | null;
}

export interface HealthInput {
  powertrain: 'bev' | 'fcev' | 'ice' | 'phev';
  connectivity: Connectivity;
  /** Last sample received, or null. */
  lastSeen: Date | null;
  createdAt: Date;
  batteryTempMaxC: number | null;
  cellVMax: number | null;
  cellVMin: number | null;
  sohPct: number | null;
  socPct: number | null;
  h2MassKg: number | null;
  h2CapacityKg: number | null;
  fuelLevelPct: number | null;
  activeAlarms: Record<string, { level: number; message: string | null }>;
  activeDtcs: readonly string[];
}

/** Severity of `value` against a rising threshold pair (higher is worse); undefined when below both. */
function above(value: number, warn: number | null, critical: number | null): { severity: Severity; threshold: number } | undefined {
  if (critical !== null && value >= critical) return { severity: 'critical', threshold: critical };
  if (warn !== null && value >= warn) return { severity: 'warn', threshold: warn };
  return undefined;
}

/** Severity of `value` against a falling threshold pair (lower is worse). */
function below(value: number, warn: number | null, critical: number | null): { severity: Severity; threshold: number } | undefined {
  if (critical !== null && value < critical) return { severity: 'critical', threshold: critical };
  if (warn !== null && value < warn) return { severity: 'warn', threshold: warn };
  return undefined;
}

const round = (v: number, digits = 3): number => Number(v.toFixed(digits));

function lowEnergy(v: HealthInput, t: HealthThresholds): HealthReason | undefined {
  const reason = (hit: { severity: Severity; threshold: number } | undefined, message: string, value: number): HealthReason | undefined =>
    hit ? { rule: 'low_energy', severity: hit.severity, message, value: round(value, 2), threshold: hit.threshold } : undefined;
  switch (v.powertrain) {
    case 'bev':
      return v.socPct === null ? undefined : reason(below(v.socPct, t.socWarnPct, t.socCriticalPct), `battery at ${round(v.socPct, 1)} % SOC`, v.socPct);
    case 'fcev': {
      // Hydrogen is the energy that matters; the buffer battery is topped up by the fuel cell.
      if (v.h2MassKg !== null && v.h2CapacityKg !== null && v.h2CapacityKg > 0) {
        const pct = (v.h2MassKg / v.h2CapacityKg) * 100;
        return reason(below(pct, t.h2WarnPct, t.h2CriticalPct), `hydrogen at ${round(pct, 1)} % of the tank (${round(v.h2MassKg, 2)} kg)`, pct);
      }
      if (v.h2MassKg !== null) return reason(below(v.h2MassKg, t.h2WarnKg, t.h2CriticalKg), `hydrogen at ${round(v.h2MassKg, 2)} kg`, v.h2MassKg);
      return v.socPct === null ? undefined : reason(below(v.socPct, t.socWarnPct, t.socCriticalPct), `buffer battery at ${round(v.socPct, 1)} % SOC (no hydrogen reading)`, v.socPct);
    }
    case 'ice':
    case 'phev':
      // A phev with an empty battery still drives on fuel: only the fuel level limits its range.
      return v.fuelLevelPct === null ? undefined : reason(below(v.fuelLevelPct, t.fuelWarnPct, t.fuelCriticalPct), `fuel at ${round(v.fuelLevelPct, 1)} %`, v.fuelLevelPct);
  }
}

/** Every reason the vehicle is not healthy, worst first. */
export function evaluateHealth(v: HealthInput, t: HealthThresholds, nowMs: number): HealthReason[] {
  const reasons: HealthReason[] = [];
  if (v.batteryTempMaxC !== null) {
    const hit = above(v.batteryTempMaxC, t.batteryTempWarnC, t.batteryTempCriticalC);
    if (hit) reasons.push({ rule: 'battery_hot', ...hit, message: `battery at ${round(v.batteryTempMaxC, 1)} °C`, value: round(v.batteryTempMaxC, 2) });
  }
  if (v.cellVMax !== null && v.cellVMin !== null) {
    const spread = v.cellVMax - v.cellVMin;
    const hit = above(round(spread, 4), t.cellImbalanceWarnV, t.cellImbalanceCriticalV);
    if (hit) reasons.push({ rule: 'cell_imbalance', ...hit, message: `cell voltages ${Math.round(spread * 1000)} mV apart`, value: round(spread, 4) });
  }
  if (v.sohPct !== null) {
    const hit = below(v.sohPct, t.sohWarnPct, t.sohCriticalPct);
    if (hit) reasons.push({ rule: 'low_soh', ...hit, message: `state of health ${round(v.sohPct, 1)} %`, value: round(v.sohPct, 2) });
  }
  const energy = lowEnergy(v, t);
  if (energy) reasons.push(energy);

  const alarms = Object.entries(v.activeAlarms).sort(([ca, a], [cb, b]) => b.level - a.level || ca.localeCompare(cb));
  for (const [code, alarm] of alarms) {
    const hit = above(alarm.level, t.alarmWarnLevel, t.alarmCriticalLevel);
    if (hit) {
      reasons.push({ rule: 'active_alarm', ...hit, message: `alarm ${code} level ${alarm.level}${alarm.message ? `: ${alarm.message}` : ''}`, value: code });
    }
  }
  if (v.activeDtcs.length > 0) {
    const hit = above(v.activeDtcs.length, t.dtcWarnCount, t.dtcCriticalCount);
    if (hit) reasons.push({ rule: 'active_dtc', ...hit, message: `${v.activeDtcs.length} active DTC(s): ${v.activeDtcs.slice(0, 5).join(', ')}`, value: v.activeDtcs.length });
  }
  if (v.connectivity === 'offline') {
    const since = v.lastSeen ?? v.createdAt;
    const silentS = Math.max(0, (nowMs - since.getTime()) / 1000);
    const hit = above(silentS, t.offlineWarnS, t.offlineCriticalS);
    if (hit) {
      const hours = round(silentS / 3600, 1);
      reasons.push({
        rule: 'offline_too_long',
        ...hit,
        message: v.lastSeen ? `offline, last sample ${hours} h ago` : `never reported since provisioning ${hours} h ago`,
        value: Math.round(silentS),
      });
    }
  }
  return reasons.sort((a, b) => severityRank(b.severity) - severityRank(a.severity));
}

function severityRank(s: Grade): number {
  return s === 'critical' ? 2 : s === 'warn' ? 1 : 0;
}

export function gradeOf(reasons: readonly HealthReason[]): Grade {
  let grade: Grade = 'ok';
  for (const r of reasons) if (severityRank(r.severity) > severityRank(grade)) grade = r.severity;
  return grade;
}
