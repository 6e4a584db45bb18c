// Delivery van (城市配送车): loads at the logistics hub in the morning, drives a delivery round with a drop-off every
// 0.8–2.5 km, back to the hub for lunch and a second load, no upper body.
import { SITES, loopRoute, offset } from '../geo.js';
import type { Rng } from '../random.js';
import { powertrainSpec, shiftStatus, type BodyContext, type BodyModel, type BodyOutput, type VehicleClassModel } from './vehicle-class.js';

const SHIFTS = [
  [8, 12],
  [13, 18],
] as const;

export class VanCargo implements BodyModel {
  parcels = 0;
  private lastMode = 'off';

  constructor(private readonly rng: Rng) {}

  step(mode: string, _ctx: BodyContext): BodyOutput {
    if (mode === 'drop' && this.lastMode !== 'drop') this.parcels = Math.max(0, this.parcels - this.rng.int(1, 6));
    if (mode === 'load') this.parcels = this.rng.int(40, 90);
    this.lastMode = mode;
    return { active: false, powerKw: 0 };
  }

  signals() {
    return { parcels: this.parcels };
  }

  cargoKg(): number {
    return this.parcels * 8;
  }
}

export const deliveryVan: VehicleClassModel<VanCargo> = {
  type: 'delivery_van',
  alias: 'van',
  code: 'VAN',
  label: 'delivery van',
  bodyType: 'none',
  powertrains: ['bev', 'phev', 'ice'],
  chassis: { massKg: 3000, cdA: 2.0, crr: 0.009, auxKw: 1.0, maxDriveKw: 100, cruiseKmh: 60 },
  powertrain: (kind) =>
    powertrainSpec(kind, {
      bev: { batteryKwh: 70, chargerKw: 40, maxRegenKw: 50, cellsSeries: 108 },
      phev: { batteryKwh: 30, fuelCapacityL: 55, engineKw: 70, chargerKw: 11, maxRegenKw: 40, cellsSeries: 96 },
      ice: { fuelCapacityL: 80, engineKw: 110 },
    }),
  reportIntervalS: 10,
  home: SITES.logisticsHub,
  createBeat: (rng) => loopRoute(rng, offset(SITES.logisticsHub, rng.uniform(-5000, -1000), rng.uniform(0, 5000)), rng.uniform(2500, 5000), rng.int(8, 14)),
  createBody: (rng) => new VanCargo(rng),
  plan(ctx, cargo) {
    const shift = shiftStatus(ctx.localHour, SHIFTS);
    const atHub = ctx.at(ctx.home);
    if (!shift.on || shift.leftS < 20 * 60) {
      if (!atHub) return ctx.driveTo('return to hub', ctx.home, 55, 'off');
      return ctx.park('off shift', shift.on ? shift.leftS : shift.untilNextS, 'off', 'off', true);
    }
    if (cargo.parcels === 0) {
      if (!atHub) return ctx.driveTo('back to hub for the next load', ctx.home, 55, 'off');
      return ctx.park('loading', ctx.rng.uniform(900, 1500), 'idle', 'load', true);
    }
    const beatPoint = ctx.beat.at(ctx.beatM);
    if (!ctx.at(beatPoint, 300)) return ctx.driveTo('to delivery round', beatPoint, 55, 'off');
    return ctx.follow('deliveries', ctx.rng.uniform(3000, 6000), ctx.rng.uniform(30, 45), 'off', {
      state: 'driving',
      stops: { everyM: [800, 2500], dwellS: [150, 420], dwellBody: 'drop', dwellState: 'off' },
    });
  },
};
