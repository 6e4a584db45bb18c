// Read side of events for the query API: one vehicle's events, and the alarm history of a tenant's fleet —
// newest first, bounded by time range and a row limit, paginated by (ts, vehicle, seq).
import { Inject, Injectable } from '@nestjs/common';
import { type Kysely, sql } from 'kysely';
import { DATABASE, type DB } from '../database.js';
import type { EventRow } from '../tables/event.table.js';

export interface EventFilter {
  from: Date;
  to: Date;
  kind?: string | undefined;
  active?: boolean | undefined;
  minLevel?: number | undefined;
}

export type StoredEvent = EventRow;

@Injectable()
export class EventQueryRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /** Events of one vehicle in [from, to), newest first, before `before` (the last row of the previous page). */
  async listForVehicle(vehicleId: string, filter: EventFilter, page: { before?: { ts: Date; seq: number } | undefined; limit: number }): Promise<StoredEvent[]> {
    let q = this.db
      .selectFrom('events')
      .selectAll()
      .where('vehicle_id', '=', vehicleId)
      .where('ts', '>=', filter.from)
      .where('ts', '<', filter.to);
    if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
    // An alarm or DTC event without `active` raises (as ingestion's merge reads it, vehicle-state-merge.ts); without
    // `level` it counts as level 1. Other kinds have no active state or level: a filter on either leaves them out.
    if (filter.active !== undefined) q = q.where(sql<boolean>`coalesce(active, CASE WHEN kind IN ('alarm', 'dtc') THEN true END)`, '=', filter.active);
    if (filter.minLevel !== undefined) q = q.where(sql<number>`coalesce(level, CASE WHEN kind = 'alarm' THEN 1 END)`, '>=', filter.minLevel);
    const before = page.before;
    if (before) q = q.where(sql<boolean>`(ts, seq) < (${before.ts.toISOString()}::timestamptz, ${before.seq}::bigint)`);
    return q.orderBy('ts', 'desc').orderBy('seq', 'desc').limit(page.limit + 1).execute();
  }

  /** Alarm events of every vehicle of the tenant in [from, to), newest first. */
  async listAlarmHistory(
    tenantId: string,
    filter: EventFilter,
    page: { before?: { ts: Date; vehicleId: string; seq: number } | undefined; limit: number },
  ): Promise<StoredEvent[]> {
    let q = this.db
      .selectFrom('events as e')
      .selectAll('e')
      .where('e.vehicle_id', 'in', (sub) => sub.selectFrom('vehicles').select('id').where('tenant_id', '=', tenantId))
      .where('e.kind', '=', 'alarm')
      .where('e.ts', '>=', filter.from)
      .where('e.ts', '<', filter.to);
    if (filter.active !== undefined) q = q.where(sql<boolean>`coalesce(e.active, true)`, '=', filter.active);
    if (filter.minLevel !== undefined) q = q.where(sql<number>`coalesce(e.level, 1)`, '>=', filter.minLevel);
    const before = page.before;
    if (before) {
      q = q.where(sql<boolean>`(e.ts, e.vehicle_id, e.seq) < (${before.ts.toISOString()}::timestamptz, ${before.vehicleId}::text, ${before.seq}::bigint)`);
    }
    return q.orderBy('e.ts', 'desc').orderBy('e.vehicle_id', 'desc').orderBy('e.seq', 'desc').limit(page.limit + 1).execute();
  }
}
