// The energy_daily rollup job: every few minutes, the hours that closed since the last run move from "read from
// energy_hourly" to "summed in energy_daily" (EnergyDailyRepository.advanceWatermark; why, in migration
// 2026_11_27_140000_energy_daily_watermark). An hour is closed CLOSE_AFTER_MS after it ends: in-order samples of it
// arrive by then, and later ones (backlogs) still reach energy_daily through the triggers. Failures are logged and
// retried at the next run; the energy report stays exact meanwhile, it just reads more hourly rows.
import { type Database, EnergyDailyRepository, type WatermarkAdvance } from '@fleet/db';
import type { Logger } from 'pino';
import { PeriodicJob } from '../common/periodic-job.js';

type DatabaseHandle = Database['db'];

const HOUR_MS = 3_600_000;
/** How long after its end an hour is rolled up. */
export const CLOSE_AFTER_MS = 5 * 60_000;

export interface EnergyRollupOptions {
  /** Time between runs. Default 5 min. */
  intervalMs?: number;
  now?: () => number;
  logger: Logger;
}

/** The watermark a run at `nowMs` moves to: the start of the newest hour that ended CLOSE_AFTER_MS ago or earlier. */
export function rollupTarget(nowMs: number): Date {
  return new Date(Math.floor((nowMs - CLOSE_AFTER_MS) / HOUR_MS) * HOUR_MS);
}

export class EnergyRollupService {
  private readonly job: PeriodicJob<WatermarkAdvance>;

  constructor(
    private readonly db: DatabaseHandle,
    private readonly options: EnergyRollupOptions,
  ) {
    this.job = new PeriodicJob(() => this.run(), options.intervalMs ?? 5 * 60_000);
  }

  start(): void {
    this.job.start();
  }

  stop(): Promise<void> {
    return this.job.stop();
  }

  /** One run; one at a time per process (processes queue on the table lock). */
  runOnce(): Promise<WatermarkAdvance> {
    return this.job.runOnce();
  }

  private async run(): Promise<WatermarkAdvance> {
    const target = rollupTarget((this.options.now ?? Date.now)());
    try {
      const moved = await new EnergyDailyRepository(this.db).advanceWatermark(target);
      if (moved.to > moved.from) {
        this.options.logger.info({ event: 'energy_rollup', from: moved.from.toISOString(), to: moved.to.toISOString(), days: moved.days }, 'closed hours added to energy_daily');
      }
      return moved;
    } catch (error) {
      this.options.logger.warn({ event: 'energy_rollup_failed', err: (error as Error).message }, 'energy_daily rollup failed; next run retries');
      throw error;
    }
  }
}
