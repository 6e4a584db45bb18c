// Sprinkler / washer (洒水车): sprays arterial roads at 10–20 km/h with a high-pressure pump, refills its 12 m³ tank
// at a hydrant, mornings and afternoons.
import { SITES, loopRoute, offset } from '../geo.js';
import type { Rng } from '../random.js';
import { powertrainSpec, shiftStatus, type BodyContext, type BodyModel, type BodyOutput, type VehicleClassModel } from './vehicle-class.js';

const TANK_L = 12_000;
const SHIFTS = [
  [6, 10.5],
  [14, 18],
] as const;

export class SprinklerBody implements BodyModel {
  waterL: number;
  private pressureBar = 0;
  private flowLpm = 0;
  private nozzle: string;

  constructor(rng: Rng) {
    this.waterL = rng.uniform(0.3, 1) * TANK_L;
    this.nozzle = rng.pick(['rear', 'front', 'side']);
  }

  step(mode: string, ctx: BodyContext): BodyOutput {
    const minutes = ctx.dtS / 60;
    if (mode === 'spray' && this.waterL > 0) {
      this.flowLpm = ctx.rng.uniform(220, 320);
      this.pressureBar = Math.round(ctx.rng.uniform(6, 9) * 10) / 10;
      this.waterL = Math.max(0, this.waterL - minutes * this.flowLpm * (ctx.speedKmh > 1 ? 1 : 0.3));
      // Hydraulic power p·Q over a ~65 % efficient centrifugal pump.
      return { active: true, powerKw: (this.pressureBar * 1e5 * (this.flowLpm / 60_000)) / 1000 / 0.65 + 0.5 };
    }
    this.flowLpm = 0;
    this.pressureBar = 0;
    if (mode === 'refill') {
      this.waterL = Math.min(TANK_L, this.waterL + minutes * 1000);
      return { active: true, powerKw: 0.5 };
    }
    return { active: false, powerKw: 0 };
  }

  signals() {
    return { water_l: Math.round(this.waterL), flow_lpm: Math.round(this.flowLpm), pump_pressure_bar: this.pressureBar, nozzle: this.nozzle };
  }

  cargoKg(): number {
    return this.waterL;
  }
}

export const sprinkler: VehicleClassModel<SprinklerBody> = {
  type: 'sprinkler',
  alias: 'sprinkler',
  code: 'SPK',
  label: 'sprinkler / washer',
  bodyType: 'sprinkler',
  powertrains: ['bev', 'fcev', 'ice'],
  chassis: { massKg: 10_000, cdA: 6.2, crr: 0.008, auxKw: 2, maxDriveKw: 200, cruiseKmh: 50 },
  powertrain: (kind) =>
    powertrainSpec(kind, {
      bev: { batteryKwh: 250, chargerKw: 120 },
      fcev: { batteryKwh: 50, h2CapacityKg: 16, fuelCellKw: 80 },
      ice: { fuelCapacityL: 200, engineKw: 180 },
    }),
  reportIntervalS: 10,
  home: SITES.sanitationDepot,
  createBeat: (rng) => loopRoute(rng, offset(SITES.hydrant, rng.uniform(-1500, 1500), rng.uniform(-1500, 1500)), rng.uniform(1800, 3200), rng.int(6, 10)),
  createBody: (rng) => new SprinklerBody(rng),
  plan(ctx, body) {
    const shift = shiftStatus(ctx.localHour, SHIFTS);
    if (!shift.on || shift.leftS < 15 * 60) {
      if (!ctx.at(ctx.home)) return ctx.driveTo('return to depot', ctx.home, 45, 'off');
      return ctx.park('off shift', shift.on ? shift.leftS : shift.untilNextS, 'off', 'off', true);
    }
    if (body.waterL < 300) {
      if (!ctx.at(SITES.hydrant)) return ctx.driveTo('to hydrant', SITES.hydrant, 45, 'off');
      return ctx.park('refill tank', 720, 'working', 'refill');
    }
    const beatPoint = ctx.beat.at(ctx.beatM);
    if (!ctx.at(beatPoint, 250)) return ctx.driveTo('to spraying route', beatPoint, 45, 'off');
    return ctx.follow('spray', ctx.rng.uniform(2000, 4000), ctx.rng.uniform(10, 20), 'spray', {
      stops: { everyM: [500, 1500], dwellS: [0, 45], dwellBody: 'off' },
    });
  },
};
