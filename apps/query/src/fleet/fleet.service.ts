// Fleet status and fleet health, both from vehicle_state (never telemetry): one page of vehicles plus counts for
// status; every vehicle of the tenant graded by the health rules for health.
import { Inject, Injectable } from '@nestjs/common';
import { decodeCursor, LISTINGS, resolveLimit, toPage } from '../common/pagination.js';
import { iso } from '../common/schemas.js';
import { type FleetFilter, FleetQueryRepository, type FleetStatusRow } from '@fleet/db';
import { QUERY_OPTIONS, type QueryOptions } from '../query.options.js';
import type { FleetHealthQuery, FleetStatusQuery } from './fleet.schema.js';
import { BATTERY_RULES, evaluateHealth, type Grade, gradeOf, type HealthReason } from './health-rules.js';

function statusEntry(v: FleetStatusRow) {
  return {
    id: v.id,
    type: v.type,
    body_type: v.bodyType,
    powertrain: v.powertrain,
    connectivity: v.connectivity,
    last_seen: v.lastSeen,
    state: v.state,
    position: v.lat !== null && v.lon !== null ? { lat: v.lat, lon: v.lon, heading_deg: v.headingDeg } : null,
    speed_kmh: v.speedKmh,
    energy: {
      soc_pct: v.socPct,
      h2_kg: v.h2MassKg,
      h2_pct: v.h2MassKg !== null && v.h2CapacityKg ? Math.round((v.h2MassKg / v.h2CapacityKg) * 1000) / 10 : null,
      fuel_pct: v.fuelLevelPct,
    },
    alarm_max_level: v.alarmMaxLevel,
    active_dtc_count: v.activeDtcCount,
  };
}

const GRADE_RANK: Record<Grade, number> = { ok: 0, warn: 1, critical: 2 };

@Injectable()
export class FleetService {
  constructor(
    @Inject(FleetQueryRepository) private readonly fleet: FleetQueryRepository,
    @Inject(QUERY_OPTIONS) private readonly options: QueryOptions,
  ) {}

  async status(tenantId: string, q: FleetStatusQuery, now = new Date()) {
    const limit = resolveLimit(q.limit, this.options.page);
    const after = decodeCursor(q.cursor, LISTINGS.fleetStatus);
    const clock = { now, offlineAfterS: this.options.offlineAfterS };
    const filter: FleetFilter = { type: q.type, bodyType: q.body_type, powertrain: q.powertrain, state: q.state, connectivity: q.connectivity };
    const { rows, counts } = await this.fleet.status(tenantId, filter, clock, { afterId: after?.[0] as string | undefined, limit });
    return {
      generated_at: now.toISOString(),
      counts: { total: counts.online + counts.stale + counts.offline, connectivity: counts },
      ...toPage(rows, limit, LISTINGS.fleetStatus, (r) => [r.id], statusEntry),
    };
  }

  async health(tenantId: string, q: FleetHealthQuery, now = new Date()) {
    const limit = resolveLimit(q.limit, this.options.page);
    const after = decodeCursor(q.cursor, LISTINGS.fleetHealth);
    const clock = { now, offlineAfterS: this.options.offlineAfterS };
    const rows = await this.fleet.listAll(tenantId, { type: q.type, bodyType: q.body_type, powertrain: q.powertrain }, clock);
    const nowMs = now.getTime();

    const connectivity = { online: 0, stale: 0, offline: 0 };
    const grades = { ok: 0, warn: 0, critical: 0 };
    const byLevel: Record<string, number> = {};
    const byCode = new Map<string, { maxLevel: number; vehicles: number }>();
    const dtcs = new Map<string, number>();
    const batteryWarnings: Array<{ vehicle_id: string; grade: Grade; reasons: HealthReason[] }> = [];
    const lowEnergy: Array<{ vehicle_id: string; grade: Grade; reasons: HealthReason[] }> = [];
    const offlineTooLong: Array<{ vehicle_id: string; last_seen: string | null; grade: 'warn' | 'critical'; message: string }> = [];
    const graded: Array<{ vehicle_id: string; type: string; powertrain: string; connectivity: string; grade: Grade; reasons: HealthReason[] }> = [];

    for (const v of rows) {
      connectivity[v.connectivity] += 1;
      const reasons = evaluateHealth(
        {
          powertrain: v.powertrain,
          connectivity: v.connectivity,
          lastSeen: v.lastReceivedAt,
          createdAt: v.createdAt,
          batteryTempMaxC: v.batteryTempMaxC,
          cellVMax: v.cellVMax,
          cellVMin: v.cellVMin,
          sohPct: v.sohPct,
          socPct: v.socPct,
          h2MassKg: v.h2MassKg,
          h2CapacityKg: v.h2CapacityKg,
          fuelLevelPct: v.fuelLevelPct,
          activeAlarms: v.activeAlarms,
          activeDtcs: v.activeDtcs,
        },
        this.options.health,
        nowMs,
      );
      const grade = gradeOf(reasons);
      grades[grade] += 1;
      for (const [code, alarm] of Object.entries(v.activeAlarms)) {
        byLevel[String(alarm.level)] = (byLevel[String(alarm.level)] ?? 0) + 1;
        const c = byCode.get(code) ?? { maxLevel: 0, vehicles: 0 };
        c.maxLevel = Math.max(c.maxLevel, alarm.level);
        c.vehicles += 1;
        byCode.set(code, c);
      }
      for (const code of new Set(v.activeDtcs)) dtcs.set(code, (dtcs.get(code) ?? 0) + 1);
      const battery = reasons.filter((r) => BATTERY_RULES.has(r.rule));
      if (battery.length > 0) batteryWarnings.push({ vehicle_id: v.id, grade: gradeOf(battery), reasons: battery });
      const energy = reasons.filter((r) => r.rule === 'low_energy');
      if (energy.length > 0) lowEnergy.push({ vehicle_id: v.id, grade: gradeOf(energy), reasons: energy });
      const offline = reasons.find((r) => r.rule === 'offline_too_long');
      if (offline) offlineTooLong.push({ vehicle_id: v.id, last_seen: iso(v.lastReceivedAt), grade: offline.severity, message: offline.message });
      graded.push({ vehicle_id: v.id, type: v.type, powertrain: v.powertrain, connectivity: v.connectivity, grade, reasons });
    }

    const bySeverity = <T extends { grade: Grade; vehicle_id: string }>(list: T[]) =>
      list.sort((a, b) => GRADE_RANK[b.grade] - GRADE_RANK[a.grade] || a.vehicle_id.localeCompare(b.vehicle_id));
    // The rows come in byte order of the id (listAll sorts COLLATE "C"), which is the order of this `>`: the cursor
    // cut and the SQL order must agree, or a page skips or repeats vehicles.
    const afterId = after?.[0] as string | undefined;
    const selected = graded.filter((g) => (q.grade === undefined || g.grade === q.grade) && (afterId === undefined || g.vehicle_id > afterId));
    const page = toPage(selected.slice(0, limit + 1), limit, LISTINGS.fleetHealth, (g) => [g.vehicle_id], (g) => g);

    return {
      generated_at: now.toISOString(),
      vehicles: rows.length,
      connectivity,
      grades,
      alarms: {
        by_level: byLevel,
        by_code: [...byCode.entries()]
          .map(([code, c]) => ({ code, max_level: c.maxLevel, vehicles: c.vehicles }))
          .sort((a, b) => b.max_level - a.max_level || b.vehicles - a.vehicles || a.code.localeCompare(b.code)),
      },
      top_dtcs: [...dtcs.entries()]
        .map(([code, vehicles]) => ({ code, vehicles }))
        .sort((a, b) => b.vehicles - a.vehicles || a.code.localeCompare(b.code))
        .slice(0, 10),
      battery_warnings: bySeverity(batteryWarnings),
      low_energy: bySeverity(lowEnergy),
      offline_too_long: bySeverity(offlineTooLong),
      items: page.items,
      next_cursor: page.next_cursor,
    };
  }
}

