// Maps accepted contract objects (@fleet/contracts) to database rows (@fleet/db): the one place where the payload
// shape of SPEC §3 meets the column names of SPEC §6.
import type { TelemetrySample, VehicleEvent } from '@fleet/contracts';
import type { NewEventRow, NewTelemetryRow } from '@fleet/db';
import type { CounterReadings, CounterSample } from '../energy/energy-increase.js';

/** A telemetry row as ingestion builds it: the fields it always sets are not optional. */
export type TelemetryInsert = NewTelemetryRow & { vehicle_id: string; ts: Date; seq: number; received_at: Date };

export function toTelemetryRow(vehicleId: string, sample: TelemetrySample, tsMs: number, receivedAt: Date): TelemetryInsert {
  const p = sample.position;
  const b = sample.battery;
  const h = sample.hydrogen;
  const f = sample.fuel;
  const e = sample.energy;
  const body = sample.body;
  return {
    vehicle_id: vehicleId,
    ts: new Date(tsMs),
    seq: sample.seq,
    received_at: receivedAt,
    lat: p?.lat ?? null,
    lon: p?.lon ?? null,
    alt_m: p?.alt_m ?? null,
    heading_deg: p?.heading_deg ?? null,
    speed_kmh: p?.speed_kmh ?? null,
    odometer_km: sample.odometer_km ?? null,
    state: sample.state ?? null,
    soc_pct: b?.soc_pct ?? null,
    battery_voltage_v: b?.voltage_v ?? null,
    battery_current_a: b?.current_a ?? null,
    battery_temp_max_c: b?.temp_max_c ?? null,
    battery_temp_min_c: b?.temp_min_c ?? null,
    cell_v_max: b?.cell_v_max ?? null,
    cell_v_min: b?.cell_v_min ?? null,
    soh_pct: b?.soh_pct ?? null,
    h2_mass_kg: h?.mass_kg ?? null,
    h2_pressure_mpa: h?.pressure_mpa ?? null,
    fc_power_kw: h?.fc_power_kw ?? null,
    fc_temp_c: h?.fc_temp_c ?? null,
    fuel_level_pct: f?.level_pct ?? null,
    fuel_rate_lph: f?.rate_lph ?? null,
    engine_rpm: f?.engine_rpm ?? null,
    coolant_c: f?.coolant_c ?? null,
    traction_kwh: e?.traction_kwh ?? null,
    body_kwh: e?.body_kwh ?? null,
    regen_kwh: e?.regen_kwh ?? null,
    charged_kwh: e?.charged_kwh ?? null,
    h2_used_kg: e?.h2_used_kg ?? null,
    fuel_used_l: e?.fuel_used_l ?? null,
    engine_hours: e?.engine_hours ?? null,
    body_type: body?.type ?? null,
    body_active: body?.active ?? null,
    body_power_kw: body?.power_kw ?? null,
    body_hours: body?.hours ?? null,
    body_signals: body?.signals ?? null,
    dtc: sample.dtc ?? null,
  };
}

/** The counter columns of a telemetry row (or a vehicle_state `last_*` snapshot), as energy readings. */
export interface CounterColumns {
  odometer_km?: number | null | undefined;
  traction_kwh?: number | null | undefined;
  body_kwh?: number | null | undefined;
  regen_kwh?: number | null | undefined;
  charged_kwh?: number | null | undefined;
  h2_used_kg?: number | null | undefined;
  fuel_used_l?: number | null | undefined;
  engine_hours?: number | null | undefined;
  body_hours?: number | null | undefined;
}

export function countersOf(row: CounterColumns): CounterReadings {
  return {
    distance_km: row.odometer_km ?? null,
    traction_kwh: row.traction_kwh ?? null,
    body_kwh: row.body_kwh ?? null,
    regen_kwh: row.regen_kwh ?? null,
    charged_kwh: row.charged_kwh ?? null,
    h2_kg: row.h2_used_kg ?? null,
    fuel_l: row.fuel_used_l ?? null,
    engine_hours: row.engine_hours ?? null,
    body_hours: row.body_hours ?? null,
  };
}

export function counterSampleOf(row: TelemetryInsert): CounterSample {
  return { tsMs: row.ts.getTime(), seq: row.seq, counters: countersOf(row) };
}

export type EventInsert = NewEventRow & { vehicle_id: string; ts: Date; seq: number; kind: string };

export function toEventRow(vehicleId: string, event: VehicleEvent, tsMs: number, receivedAt: Date): EventInsert {
  return {
    vehicle_id: vehicleId,
    ts: new Date(tsMs),
    seq: event.seq,
    received_at: receivedAt,
    kind: event.kind,
    code: event.code,
    level: event.level ?? null,
    active: event.active ?? null,
    message: event.message ?? null,
    data: event.data ?? null,
  };
}
