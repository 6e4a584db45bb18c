import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EventInsert, TelemetryInsert } from './rows.js';
import { applyAlarmEvents, isNewer, keyOf, newestPerVehicle, type AlarmState } from './vehicle-state-merge.js';

const T0 = Date.UTC(2026, 10, 26, 8);
const row = (vid: string, t: number, seq: number): TelemetryInsert => ({
  vehicle_id: vid,
  ts: new Date(T0 + t),
  seq,
  received_at: new Date(T0),
});
const ev = (t: number, seq: number, kind: string, code: string, active?: boolean, level?: number): EventInsert => ({
  vehicle_id: 'V1',
  ts: new Date(T0 + t),
  seq,
  kind,
  code,
  active: active ?? null,
  level: level ?? null,
});
const empty: AlarmState = { activeAlarms: {}, activeDtcs: [], changedAt: {} };

describe('newestPerVehicle', () => {
  it('picks the newest by (ts, seq) per vehicle', () => {
    const m = newestPerVehicle([row('A', 10, 1), row('B', 5, 1), row('A', 10, 3), row('A', 9, 9)]);
    expect(m.get('A')?.seq).toBe(3);
    expect(m.get('B')?.seq).toBe(1);
  });

  it('never goes back in time (property: fold over batches = max)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 5 })), { maxLength: 8 }), { maxLength: 10 }), (batches) => {
        let stored: { tsMs: number; seq: number } | undefined;
        for (const b of batches) {
          const newest = newestPerVehicle(b.map(([t, s]) => row('A', t, s))).get('A');
          if (newest && isNewer(keyOf(newest), stored)) stored = keyOf(newest);
        }
        const all = batches.flat().sort((x, y) => y[0] - x[0] || y[1] - x[1])[0];
        expect(stored).toEqual(all ? { tsMs: T0 + all[0], seq: all[1] } : undefined);
      }),
    );
  });
});

describe('applyAlarmEvents', () => {
  it('sets, keeps the first since, and clears alarms', () => {
    let s = applyAlarmEvents(empty, [ev(0, 1, 'alarm', 'BATTERY_HIGH_TEMP', true, 2)]);
    expect(s.activeAlarms['BATTERY_HIGH_TEMP']).toMatchObject({ level: 2, since: new Date(T0).toISOString() });
    expect(s.alarmMaxLevel).toBe(2);
    s = applyAlarmEvents(s, [ev(1000, 2, 'alarm', 'BATTERY_HIGH_TEMP', true, 3)]);
    expect(s.activeAlarms['BATTERY_HIGH_TEMP']).toMatchObject({ level: 3, since: new Date(T0).toISOString() });
    s = applyAlarmEvents(s, [ev(2000, 3, 'alarm', 'BATTERY_HIGH_TEMP', false)]);
    expect(s.activeAlarms).toEqual({});
    expect(s.alarmMaxLevel).toBe(0);
  });

  it('ignores a late event older than the newest applied for its code', () => {
    let s = applyAlarmEvents(empty, [ev(2000, 3, 'alarm', 'H2_LEAK', false)]);
    s = applyAlarmEvents(s, [ev(1000, 2, 'alarm', 'H2_LEAK', true, 3)]);
    expect(s.activeAlarms).toEqual({});
  });

  it('orders events of the same ts by seq: a late raise does not undo a clear of the same second', () => {
    let s = applyAlarmEvents(empty, [ev(0, 11, 'alarm', 'H2_LEAK', false)]);
    s = applyAlarmEvents(s, [ev(0, 10, 'alarm', 'H2_LEAK', true, 3)]);
    expect(s.activeAlarms).toEqual({});
    s = applyAlarmEvents(s, [ev(0, 12, 'alarm', 'H2_LEAK', true, 3)]);
    expect(s.activeAlarms['H2_LEAK']).toMatchObject({ level: 3 });
    // And DTC events alike.
    let d = applyAlarmEvents(empty, [ev(0, 5, 'dtc', 'P0A80', false)]);
    d = applyAlarmEvents(d, [ev(0, 4, 'dtc', 'P0A80', true)]);
    expect(d.activeDtcs).toEqual([]);
  });

  it('reads a change stored as a bare ts (rows from before seq was kept) as older than any event of that ts', () => {
    const stored: AlarmState = { activeAlarms: {}, activeDtcs: [], changedAt: { 'alarm:H2_LEAK': T0 + 1000 } };
    expect(applyAlarmEvents(stored, [ev(999, 1, 'alarm', 'H2_LEAK', true, 3)]).activeAlarms).toEqual({});
    const s = applyAlarmEvents(stored, [ev(1000, 0, 'alarm', 'H2_LEAK', true, 3)]);
    expect(s.activeAlarms['H2_LEAK']).toMatchObject({ level: 3 });
    expect(s.changedAt['alarm:H2_LEAK']).toEqual([T0 + 1000, 0]);
  });

  it('ignores a dtc event older than the newest sample list: that list is the complete set at its time', () => {
    // A sample at +60 s said no DTCs; a dtc event from +0 arriving later must not bring P0A80 back.
    const listed: AlarmState = { ...empty, dtcsAtMs: T0 + 60_000 };
    expect(applyAlarmEvents(listed, [ev(0, 5, 'dtc', 'P0A80', true)]).activeDtcs).toEqual([]);
    expect(applyAlarmEvents(listed, [ev(61_000, 6, 'dtc', 'P0A80', true)]).activeDtcs).toEqual(['P0A80']);
    // The same within one batch: the newest sample's list and an older event of that batch.
    const batch = applyAlarmEvents(empty, [ev(1000, 7, 'dtc', 'U0100', true)], [], T0 + 60_000);
    expect(batch.activeDtcs).toEqual([]);
    expect(batch.dtcsAtMs).toBe(T0 + 60_000);
    // Alarms are not DTCs: an older alarm event still applies.
    expect(Object.keys(applyAlarmEvents(listed, [ev(0, 8, 'alarm', 'SOC_LOW', true, 1)]).activeAlarms)).toEqual(['SOC_LOW']);
  });

  it('tracks DTC events and lets the newest sample replace the DTC set', () => {
    let s = applyAlarmEvents(empty, [ev(0, 1, 'dtc', 'P0A80', true), ev(1, 2, 'dtc', 'U0100', true)]);
    expect(s.activeDtcs).toEqual(['P0A80', 'U0100']);
    s = applyAlarmEvents(s, [ev(2, 3, 'dtc', 'P0A80', false)]);
    expect(s.activeDtcs).toEqual(['U0100']);
    s = applyAlarmEvents(s, [], ['SPN520-FMI3']);
    expect(s.activeDtcs).toEqual(['SPN520-FMI3']);
    expect(applyAlarmEvents(s, [], ['SPN520-FMI3']).changed).toBe(false);
  });

  it('is independent of arrival order across batches (property)', () => {
    const evArb = fc.record({ t: fc.integer({ min: 0, max: 5 }), active: fc.boolean(), code: fc.constantFrom('A', 'B') });
    fc.assert(
      // Timestamps repeat (a coarse clock): (ts, seq) decides, and seq is unique per vehicle.
      fc.property(fc.array(evArb, { maxLength: 12 }), fc.integer({ min: 1, max: 4 }), (events, chunk) => {
        const evs = events.map((e, i) => ev(e.t, i, 'alarm', e.code, e.active, 2));
        const inOrder = applyAlarmEvents(empty, evs);
        let s: AlarmState = empty;
        const reversed = [...evs].reverse();
        for (let i = 0; i < reversed.length; i += chunk) s = applyAlarmEvents(s, reversed.slice(i, i + chunk));
        expect(Object.keys(s.activeAlarms).sort()).toEqual(Object.keys(inOrder.activeAlarms).sort());
      }),
    );
  });
});
