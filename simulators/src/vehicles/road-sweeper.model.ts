// Road sweeper (扫路车): two shifts a day on a street-grid beat at 5–10 km/h with brushes, suction fan and dust-
// suppression water on; back to the depot to dump the hopper and refill water; charges or parks overnight.
import { SITES, gridRoute, offset } from '../geo.js';
import type { Rng } from '../random.js';
import { powertrainSpec, shiftStatus, type BodyContext, type BodyModel, type BodyOutput, type VehicleClassModel } from './vehicle-class.js';

const WATER_CAPACITY_L = 2000;
const SHIFTS = [
  [5.5, 11.5],
  [13.5, 19],
] as const;

export class SweeperBody implements BodyModel {
  waterL = WATER_CAPACITY_L;
  hopperPct = 0;
  private brushRpm = 0;
  private fanRpm = 0;
  private readonly fanKw: number;

  constructor(rng: Rng) {
    this.fanKw = rng.uniform(6, 8.5);
    this.waterL = rng.uniform(0.6, 1) * WATER_CAPACITY_L;
  }

  step(mode: string, ctx: BodyContext): BodyOutput {
    const minutes = ctx.dtS / 60;
    if (mode === 'sweep') {
      this.brushRpm = Math.round(ctx.rng.uniform(105, 130));
      this.fanRpm = Math.round(ctx.rng.uniform(1900, 2300));
      this.waterL = Math.max(0, this.waterL - minutes * ctx.rng.uniform(6, 9));
      this.hopperPct = Math.min(100, this.hopperPct + minutes * ctx.rng.uniform(0.2, 0.45));
      return { active: true, powerKw: this.fanKw * (this.fanRpm / 2100) ** 3 + 2 + 0.6 };
    }
    this.brushRpm = 0;
    this.fanRpm = 0;
    if (mode === 'service') {
      // Tipping the hopper (hydraulics) and refilling water from the depot main.
      this.hopperPct = Math.max(0, this.hopperPct - minutes * 25);
      this.waterL = Math.min(WATER_CAPACITY_L, this.waterL + minutes * 200);
      return { active: true, powerKw: this.hopperPct > 0 ? 6 : 0.4 };
    }
    return { active: false, powerKw: 0 };
  }

  signals() {
    return { brush_rpm: this.brushRpm, fan_rpm: this.fanRpm, water_l: Math.round(this.waterL), hopper_pct: Math.round(this.hopperPct) };
  }

  cargoKg(): number {
    return this.waterL + this.hopperPct * 40;
  }
}

export const roadSweeper: VehicleClassModel<SweeperBody> = {
  type: 'road_sweeper',
  alias: 'sweeper',
  code: 'SWP',
  label: 'road sweeper',
  bodyType: 'sweeper',
  powertrains: ['bev', 'fcev', 'ice'],
  chassis: { massKg: 15_000, cdA: 6.0, crr: 0.008, auxKw: 2.5, maxDriveKw: 150, cruiseKmh: 45 },
  powertrain: (kind) =>
    powertrainSpec(kind, {
      bev: { batteryKwh: 230, chargerKw: 120 },
      fcev: { batteryKwh: 50, h2CapacityKg: 14, fuelCellKw: 60 },
      ice: { fuelCapacityL: 200, engineKw: 180 },
    }),
  reportIntervalS: 10,
  home: SITES.sanitationDepot,
  createBeat: (rng) => gridRoute(rng, offset(SITES.sanitationDepot, rng.uniform(-800, 2500), rng.uniform(500, 3000)), rng.int(3, 5), rng.int(3, 5), rng.uniform(250, 420)),
  createBody: (rng) => new SweeperBody(rng),
  plan(ctx, body) {
    const shift = shiftStatus(ctx.localHour, SHIFTS);
    const atHome = ctx.at(ctx.home);
    if (!shift.on || shift.leftS < 20 * 60) {
      if (!atHome) return ctx.driveTo('return to depot', ctx.home, 35, 'off');
      if (body.hopperPct > 1 || body.waterL < WATER_CAPACITY_L - 5) return ctx.park('dump and refill', 600, 'working', 'service');
      return ctx.park('off shift', shift.on ? shift.leftS : shift.untilNextS, 'off', 'off', true);
    }
    if (body.waterL < 150 || body.hopperPct > 90) {
      if (!atHome) return ctx.driveTo('to depot: hopper full or water empty', ctx.home, 35, 'off');
      return ctx.park('dump and refill', 900, 'working', 'service');
    }
    const beatPoint = ctx.beat.at(ctx.beatM);
    if (!ctx.at(beatPoint, 250)) return ctx.driveTo('to beat', beatPoint, 35, 'off');
    return ctx.follow('sweep', ctx.rng.uniform(1500, 3000), ctx.rng.uniform(5, 10), 'sweep', {
      stops: { everyM: [250, 900], dwellS: [5, 40], dwellBody: 'sweep' },
      extraCrr: 0.012,
    });
  },
};
