// Domain rows → the JSON the API answers (snake_case, ISO times), in one place.
import type { FleetVehicleRow, RawSample, StoredEvent, Vehicle } from '@fleet/db';
import { iso } from '../common/schemas.js';

export function presentRegistry(v: Vehicle | FleetVehicleRow) {
  return {
    id: v.id,
    type: v.type,
    body_type: v.bodyType,
    powertrain: v.powertrain,
    vin: v.vin,
    model: v.model,
    battery_kwh: v.batteryKwh,
    h2_capacity_kg: v.h2CapacityKg,
    fuel_capacity_l: v.fuelCapacityL,
    report_interval_s: v.reportIntervalS,
    credentials_rotated_at: iso(v.credentialsRotatedAt),
    created_at: v.createdAt.toISOString(),
  };
}

export function presentSnapshot(v: FleetVehicleRow) {
  return {
    connectivity: v.connectivity,
    connected: v.connected,
    last_seen: iso(v.lastReceivedAt),
    last_ts: iso(v.lastTs),
    last_seq: v.lastSeq,
    fw: v.fw,
    state: v.state,
    position: v.lat !== null && v.lon !== null ? { lat: v.lat, lon: v.lon, speed_kmh: v.speedKmh, heading_deg: v.headingDeg } : null,
    odometer_km: v.odometerKm,
    battery: {
      soc_pct: v.socPct,
      temp_max_c: v.batteryTempMaxC,
      temp_min_c: v.batteryTempMinC,
      cell_v_max: v.cellVMax,
      cell_v_min: v.cellVMin,
      soh_pct: v.sohPct,
    },
    h2_mass_kg: v.h2MassKg,
    fuel_level_pct: v.fuelLevelPct,
    body: { active: v.bodyActive, power_kw: v.bodyPowerKw },
    active_alarms: Object.fromEntries(
      Object.entries(v.activeAlarms).map(([code, a]) => [code, { level: a.level, since: a.since ?? null, message: a.message ?? null }]),
    ),
    alarm_max_level: v.alarmMaxLevel,
    active_dtcs: v.activeDtcs,
  };
}

export function presentVehicle(v: FleetVehicleRow) {
  return { ...presentRegistry(v), snapshot: presentSnapshot(v) };
}

export function presentSample(s: RawSample): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, value] of Object.entries(s)) out[k] = value instanceof Date ? value.toISOString() : value;
  return out;
}

export function presentEvent(e: StoredEvent) {
  return {
    vehicle_id: e.vehicle_id,
    ts: e.ts.toISOString(),
    seq: e.seq,
    received_at: e.received_at.toISOString(),
    kind: e.kind,
    code: e.code,
    level: e.level,
    active: e.active,
    message: e.message,
    data: e.data,
  };
}
