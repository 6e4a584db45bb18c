// GET /api/v1/energy: summed counter increases per group (EnergyReportRepository, exact over partial hours) and the
// derived figures (energy-figures.ts) with the configured conversion factors.
import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { resolveRange } from '../common/time-range.js';
import { compareGroupKeys, type EnergyGroupBy, EnergyReportRepository, type EnergyReportColumn, type EnergyStepLimit } from '@fleet/db';
import { QUERY_OPTIONS, type QueryOptions } from '../query.options.js';
import { energyItem } from './energy-figures.js';
import { ENERGY_STEP_LIMITS } from './energy-rule.js';
import type { EnergyQuery } from './energy.schema.js';

const DAY_MS = 86_400_000;

@Injectable()
export class EnergyService {
  constructor(
    @Inject(EnergyReportRepository) private readonly reports: EnergyReportRepository,
    @Inject(QUERY_OPTIONS) private readonly options: QueryOptions,
  ) {}

  /**
   * Retention drops raw telemetry and its 10-minute energy rows after rawKeptDays and keeps energy_hourly and what sums
   * it: an end off the hour there would be computed from raw rows that are gone, a silently wrong figure (up to an hour
   * of every vehicle's energy). Refused with a code instead; ends on the hour are exact at any age.
   */
  private refuseEndsBeforeRetention(from: Date, to: Date): void {
    const exactSince = Date.now() - this.options.rawKeptDays * DAY_MS + RETENTION_MARGIN_MS;
    for (const [name, t] of [['from', from], ['to', to]] as const) {
      if (t.getTime() < exactSince && t.getTime() % HOUR_MS !== 0) {
        throw new ApiError(
          'range_before_retention',
          `${name} ${t.toISOString()} is off the hour and older than the ${this.options.rawKeptDays - 1} days raw samples are kept (RETENTION_TELEMETRY_DAYS): energy before ${new Date(exactSince).toISOString()} is exact to the whole hour; use a time on the hour`,
        );
      }
    }
  }

  async report(tenantId: string, q: EnergyQuery) {
    const range = resolveRange(q.from, q.to, { maxRangeS: this.options.maxRangeS.energy, defaultSpanS: 86_400 });
    this.refuseEndsBeforeRetention(range.from, range.to);
    const groupBy: EnergyGroupBy = q.group_by ?? 'vehicle';
    const rows = await this.reports.report({
      tenantId,
      from: range.from,
      to: range.to,
      groupBy,
      stepLimits: ENERGY_STEP_LIMITS as Readonly<Record<EnergyReportColumn, EnergyStepLimit>>,
    });
    // The repository answers in key order; days without any figure are added as zeros (so a chart of the answer has
    // no gaps), and only then does the list need sorting again.
    let groups = rows;
    if (groupBy === 'day') {
      const known = new Map(rows.map((r) => [r.key, r]));
      for (let d = Math.floor(range.from.getTime() / DAY_MS) * DAY_MS; d < range.to.getTime(); d += DAY_MS) {
        const key = new Date(d).toISOString().slice(0, 10);
        if (!known.has(key)) known.set(key, { key, vehicles: 0, ...zeroSums() });
      }
      groups = [...known.values()].sort(compareGroupKeys);
    }
    const items = groups.map((g) => energyItem(groupBy, g, this.options.conversion));
    return {
      from: range.from.toISOString(),
      to: range.to.toISOString(),
      group_by: groupBy,
      conversion_factors: {
        diesel_kwh_per_l: this.options.conversion.dieselKwhPerL,
        h2_kwh_per_kg: this.options.conversion.h2KwhPerKg,
        grid_kg_co2_per_kwh: this.options.conversion.gridKgCo2PerKwh,
        diesel_kg_co2_per_l: this.options.conversion.dieselKgCo2PerL,
        h2_kg_co2_per_kg: this.options.conversion.h2KgCo2PerKg,
      },
      items,
    };
  }
}

/** A day short of retention's cutoff: a raw part also reads each vehicle's sample before it, which must still be there. */
const RETENTION_MARGIN_MS = DAY_MS;
const HOUR_MS = 3_600_000;

function zeroSums(): Record<EnergyReportColumn, number> {
  return { distance_km: 0, traction_kwh: 0, body_kwh: 0, regen_kwh: 0, charged_kwh: 0, h2_kg: 0, fuel_l: 0, engine_hours: 0, body_hours: 0 };
}
