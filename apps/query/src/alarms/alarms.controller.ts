// /api/v1/alarms: alarms across the tenant's fleet — the ones active now (from vehicle_state), or with
// active=false the alarm history (raise and clear events) of a time range.
import { Controller, Get, Inject, Injectable, Query } from '@nestjs/common';
import Type, { type Static } from 'typebox';
import { Caller, type Principal } from '../auth/principal.js';
import { ApiError } from '../common/api-error.js';
import { Endpoint } from '../common/endpoint.js';
import { decodeCursor, LISTINGS, resolveLimit, toPage } from '../common/pagination.js';
import { BooleanParam, CursorParam, Iso, LimitParam, Nullable, TimeParam } from '../common/schemas.js';
import { resolveRange } from '../common/time-range.js';
import { EventQueryRepository, FleetQueryRepository } from '@fleet/db';
import { QUERY_OPTIONS, type QueryOptions } from '../query.options.js';
import { presentEvent } from '../vehicles/vehicle.presenter.js';
import { EventSchema } from '../vehicles/vehicles.schema.js';

export const AlarmsQuery = Type.Object(
  {
    active: Type.Optional(BooleanParam('true (default): alarms active now; false: alarm events (raised and cleared) in [from, to)')),
    min_level: Type.Optional(Type.Integer({ minimum: 1, maximum: 3, description: 'lowest GB/T 32960 level to include (default 1; an alarm event without a level counts as 1)' })),
    from: Type.Optional(TimeParam('history start (active=false); default to − 24 h')),
    to: Type.Optional(TimeParam('history end (active=false); default now')),
    limit: Type.Optional(LimitParam),
    cursor: Type.Optional(CursorParam),
  },
  { additionalProperties: false },
);
export type AlarmsQuery = Static<typeof AlarmsQuery>;

const ActiveAlarm = Type.Object({ vehicle_id: Type.String(), code: Type.String(), level: Type.Integer(), since: Nullable(Type.String()), message: Nullable(Type.String()) });
export const AlarmsAnswer = Type.Object({
  active: Type.Boolean(),
  items: Type.Array(Type.Union([ActiveAlarm, EventSchema])),
  next_cursor: Nullable(Type.String()),
  from: Type.Optional(Iso),
  to: Type.Optional(Iso),
});

@Injectable()
export class AlarmsService {
  constructor(
    @Inject(FleetQueryRepository) private readonly fleet: FleetQueryRepository,
    @Inject(EventQueryRepository) private readonly events: EventQueryRepository,
    @Inject(QUERY_OPTIONS) private readonly options: QueryOptions,
  ) {}

  async list(tenantId: string, q: AlarmsQuery) {
    const limit = resolveLimit(q.limit, this.options.page);
    const minLevel = q.min_level ?? 1;
    if (q.active !== false) {
      // Active alarms have no time range: a from or to here is a mistake to say, not a filter to ignore unread.
      if (q.from !== undefined || q.to !== undefined) {
        throw new ApiError('invalid_parameter', 'from and to apply to the alarm history (active=false); the active alarms are those of now');
      }
      const after = decodeCursor(q.cursor, LISTINGS.alarmsActive);
      const rows = await this.fleet.listActiveAlarms(tenantId, minLevel, {
        after: after ? { level: after[0] as number, vehicleId: after[1] as string, code: after[2] as string } : undefined,
        limit,
      });
      const page = toPage(rows, limit, LISTINGS.alarmsActive, (r) => [r.level, r.vehicleId, r.code], (r) => ({ vehicle_id: r.vehicleId, code: r.code, level: r.level, since: r.since, message: r.message }));
      return { active: true, ...page };
    }
    const range = resolveRange(q.from, q.to, { maxRangeS: this.options.maxRangeS.events, defaultSpanS: 86_400 });
    const before = decodeCursor(q.cursor, LISTINGS.alarmsHistory);
    const rows = await this.events.listAlarmHistory(
      tenantId,
      // min_level only when asked for: an alarm event may carry no level (a clear usually does not), and it belongs to
      // the history all the same.
      { from: range.from, to: range.to, minLevel: q.min_level },
      { before: before ? { ts: new Date(before[0] as number), vehicleId: before[1] as string, seq: before[2] as number } : undefined, limit },
    );
    const page = toPage(rows, limit, LISTINGS.alarmsHistory, (r) => [r.ts.getTime(), r.vehicle_id, r.seq], presentEvent);
    return { active: false, from: range.from.toISOString(), to: range.to.toISOString(), ...page };
  }
}

@Controller('api/v1/alarms')
export class AlarmsController {
  constructor(@Inject(AlarmsService) private readonly alarms: AlarmsService) {}

  @Get()
  @Endpoint({ tag: 'alarms', summary: 'Alarms across the fleet: active now (default), or the alarm history with active=false', access: 'operator', query: AlarmsQuery, responses: { 200: AlarmsAnswer } })
  list(@Caller() caller: Principal, @Query() q: AlarmsQuery) {
    return this.alarms.list(caller.tenantId, q);
  }
}
