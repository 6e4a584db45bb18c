// Pure rules for vehicle_state: which sample of a batch becomes the latest snapshot (never one older than what is
// stored), and how events set and clear the active alarms and DTCs, whatever order they arrive in.
import type { ActiveAlarms, AlarmChange } from '@fleet/db';
import type { EventInsert, TelemetryInsert } from './rows.js';

export interface SampleKey {
  readonly tsMs: number;
  readonly seq: number;
}

/** (ts, seq) order; `undefined` (nothing stored yet) is older than everything. */
export function isNewer(candidate: SampleKey, than: SampleKey | undefined): boolean {
  if (than === undefined) return true;
  return candidate.tsMs > than.tsMs || (candidate.tsMs === than.tsMs && candidate.seq > than.seq);
}

export function keyOf(row: { ts: Date; seq: number }): SampleKey {
  return { tsMs: row.ts.getTime(), seq: row.seq };
}

/** The newest row per vehicle by (ts, seq); on an exact tie the first one seen wins (the one the table keeps). */
export function newestPerVehicle(rows: readonly TelemetryInsert[]): Map<string, TelemetryInsert> {
  const out = new Map<string, TelemetryInsert>();
  for (const row of rows) {
    const current = out.get(row.vehicle_id);
    if (current === undefined || isNewer(keyOf(row), keyOf(current))) out.set(row.vehicle_id, row);
  }
  return out;
}

export interface AlarmState {
  readonly activeAlarms: ActiveAlarms;
  readonly activeDtcs: readonly string[];
  /**
   * `alarm:CODE` / `dtc:CODE` → (ts, seq) of the newest event applied to it, so a late event cannot undo a newer one,
   * also one of the same ts (a raise and a clear within a second). A bare number (ts only, written before seq was kept)
   * reads as older than every event of that ts.
   */
  readonly changedAt: Readonly<Record<string, AlarmChange>>;
  /**
   * Epoch ms of the newest sample whose `dtc` list was applied: the complete set active then (SPEC §3), so a `dtc`
   * event older than it is already accounted for and is ignored (it would bring back a code the list cleared).
   */
  readonly dtcsAtMs?: number | null;
}

export interface AlarmUpdate extends AlarmState {
  readonly alarmMaxLevel: number;
  readonly changed: boolean;
}

/** The (ts, seq) of a stored change; a bare ts (older rows) sorts before every seq of its millisecond. */
function changeKey(change: AlarmChange): SampleKey {
  return typeof change === 'number' ? { tsMs: change, seq: -Infinity } : { tsMs: change[0], seq: change[1] };
}

export function maxAlarmLevel(alarms: ActiveAlarms): number {
  let max = 0;
  for (const a of Object.values(alarms)) max = Math.max(max, a.level);
  return max;
}

/**
 * Applies events to a vehicle's alarm state. Rules:
 * - `alarm`: `active: false` clears the code; otherwise it is (re)raised with its level (default: the level it
 *   already had, else 1), keeping the time it first became active;
 * - `dtc`: `active: false` clears the code from the DTC set, otherwise adds it;
 * - `state` and `incident` events are stored but change nothing here;
 * - per code, an event older by (ts, seq) than the newest one already applied is ignored (late arrival never undoes
 *   news);
 * - `telemetryDtcs`: the `dtc` list of the batch's newest sample when it is newer than the stored snapshot — the
 *   complete set active at that time (`telemetryDtcsAtMs`), so it replaces the DTC set, and a `dtc` event older than
 *   the newest list applied (this one or `state.dtcsAtMs`) changes nothing.
 */
export function applyAlarmEvents(
  state: AlarmState,
  events: readonly EventInsert[],
  telemetryDtcs?: readonly string[] | null,
  telemetryDtcsAtMs?: number,
): AlarmUpdate {
  const alarms: ActiveAlarms = { ...state.activeAlarms };
  const dtcs = new Set(state.activeDtcs);
  const changedAt: Record<string, AlarmChange> = { ...state.changedAt };
  let changed = false;
  let dtcsAtMs = state.dtcsAtMs ?? null;

  if (telemetryDtcs != null) {
    if (telemetryDtcsAtMs !== undefined) dtcsAtMs = Math.max(dtcsAtMs ?? telemetryDtcsAtMs, telemetryDtcsAtMs);
    const next = new Set(telemetryDtcs);
    if (next.size !== dtcs.size || [...next].some((c) => !dtcs.has(c))) {
      dtcs.clear();
      for (const c of next) dtcs.add(c);
      changed = true;
    }
  }

  const ordered = [...events].sort((a, b) => a.ts.getTime() - b.ts.getTime() || a.seq - b.seq);
  for (const ev of ordered) {
    if (ev.code == null || (ev.kind !== 'alarm' && ev.kind !== 'dtc')) continue;
    const key = `${ev.kind}:${ev.code}`;
    const at: SampleKey = { tsMs: ev.ts.getTime(), seq: ev.seq };
    if (ev.kind === 'dtc' && dtcsAtMs !== null && at.tsMs < dtcsAtMs) continue;
    const seen = changedAt[key];
    if (seen !== undefined && isNewer(changeKey(seen), at)) continue;
    changedAt[key] = [at.tsMs, at.seq];
    changed = true;
    if (ev.kind === 'alarm') {
      if (ev.active === false) {
        delete alarms[ev.code];
      } else {
        const existing = alarms[ev.code];
        alarms[ev.code] = {
          level: ev.level ?? existing?.level ?? 1,
          since: existing?.since ?? ev.ts.toISOString(),
          message: ev.message ?? existing?.message ?? null,
        };
      }
    } else if (ev.active === false) {
      dtcs.delete(ev.code);
    } else {
      dtcs.add(ev.code);
    }
  }

  return {
    activeAlarms: alarms,
    activeDtcs: [...dtcs].sort(),
    changedAt,
    dtcsAtMs,
    alarmMaxLevel: maxAlarmLevel(alarms),
    changed,
  };
}
