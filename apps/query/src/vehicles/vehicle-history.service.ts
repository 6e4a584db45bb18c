// A vehicle's history: raw or bucketed telemetry and its events, bounded by time range, bucket count and page size.
import { Inject, Injectable } from '@nestjs/common';
import { ApiError } from '../common/api-error.js';
import { decodeCursor, LISTINGS, resolveLimit, toPage } from '../common/pagination.js';
import { formatSpan, parseBucket, resolveRange } from '../common/time-range.js';
import { EventQueryRepository, SERIES_SIGNALS, type SeriesSignal, TelemetryQueryRepository, VehicleRepository } from '@fleet/db';
import { QUERY_OPTIONS, type QueryOptions } from '../query.options.js';
import { presentEvent, presentSample } from './vehicle.presenter.js';
import type { EventsQuery, TelemetryQuery } from './vehicles.schema.js';

const SIGNAL_SET: ReadonlySet<string> = new Set(SERIES_SIGNALS);

@Injectable()
export class VehicleHistoryService {
  constructor(
    @Inject(VehicleRepository) private readonly vehicles: VehicleRepository,
    @Inject(TelemetryQueryRepository) private readonly telemetry: TelemetryQueryRepository,
    @Inject(EventQueryRepository) private readonly events: EventQueryRepository,
    @Inject(QUERY_OPTIONS) private readonly options: QueryOptions,
  ) {}

  private async assertOwned(tenantId: string, id: string): Promise<void> {
    const vehicle = await this.vehicles.findById(id);
    if (!vehicle || vehicle.tenantId !== tenantId) throw new ApiError('not_found', `no vehicle ${id}`);
  }

  async telemetrySeries(tenantId: string, id: string, q: TelemetryQuery) {
    const bucketS = q.bucket === undefined ? undefined : parseBucket(q.bucket);
    const range = resolveRange(q.from, q.to, {
      maxRangeS: bucketS === undefined ? this.options.maxRangeS.telemetryRaw : this.options.maxRangeS.telemetryBucketed,
      defaultSpanS: 3600,
    });
    const limit = resolveLimit(q.limit, this.options.telemetryPage);
    await this.assertOwned(tenantId, id);
    const base = { vehicle_id: id, from: range.from.toISOString(), to: range.to.toISOString(), bucket: q.bucket ?? null };

    if (bucketS === undefined) {
      if (q.signals !== undefined) throw new ApiError('invalid_parameter', 'signals applies to bucketed series only (add bucket=)');
      const after = decodeCursor(q.cursor, LISTINGS.telemetryRaw);
      const rows = await this.telemetry.raw(id, range.from, range.to, {
        after: after ? { ts: new Date(after[0] as number), seq: after[1] as number } : undefined,
        limit,
      });
      return { ...base, ...toPage(rows, limit, LISTINGS.telemetryRaw, (r) => [r.ts.getTime(), r.seq], presentSample) };
    }

    if (bucketS < this.options.minBucketS) throw new ApiError('invalid_bucket', `bucket must be at least ${this.options.minBucketS} s`);
    const buckets = Math.ceil((range.to.getTime() - range.from.getTime()) / (bucketS * 1000));
    if (buckets > this.options.maxBuckets) {
      throw new ApiError('too_many_buckets', `${buckets} buckets of ${formatSpan(bucketS)} in this range; at most ${this.options.maxBuckets} — widen the bucket or narrow the range`);
    }
    const signals = this.signals(q.signals);
    // A bucketed page continues from the bucket after the previous page's last one.
    const after = decodeCursor(q.cursor, LISTINGS.telemetryBuckets);
    if (after && after[1] !== bucketS) {
      throw new ApiError('invalid_cursor', `the cursor continues a series of ${formatSpan(after[1] as number)} buckets, not ${formatSpan(bucketS)}: page with the bucket it was made with`);
    }
    const from = after ? new Date(Math.max(range.from.getTime(), (after[0] as number) + bucketS * 1000)) : range.from;
    const rows = from < range.to ? await this.telemetry.buckets(id, from, range.to, bucketS, signals, limit) : [];
    const page = toPage(rows, limit, LISTINGS.telemetryBuckets, (r) => [r.bucket.getTime(), bucketS], (r) => ({ bucket: r.bucket.toISOString(), samples: r.samples, signals: r.signals }));
    return { ...base, ...page };
  }

  private signals(list: string | undefined): SeriesSignal[] {
    if (list === undefined) return [...SERIES_SIGNALS];
    const names = list.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
    const unknown = names.filter((n) => !SIGNAL_SET.has(n));
    if (names.length === 0 || unknown.length > 0) {
      throw new ApiError('invalid_parameter', `unknown signal(s) ${unknown.join(', ') || '(none given)'}; known: ${SERIES_SIGNALS.join(', ')}`);
    }
    return [...new Set(names)] as SeriesSignal[];
  }

  async eventList(tenantId: string, id: string, q: EventsQuery) {
    const range = resolveRange(q.from, q.to, { maxRangeS: this.options.maxRangeS.events, defaultSpanS: 86_400 });
    const limit = resolveLimit(q.limit, this.options.page);
    const before = decodeCursor(q.cursor, LISTINGS.vehicleEvents);
    await this.assertOwned(tenantId, id);
    const rows = await this.events.listForVehicle(
      id,
      { from: range.from, to: range.to, kind: q.kind, active: q.active },
      { before: before ? { ts: new Date(before[0] as number), seq: before[1] as number } : undefined, limit },
    );
    return toPage(rows, limit, LISTINGS.vehicleEvents, (r) => [r.ts.getTime(), r.seq], presentEvent);
  }
}

