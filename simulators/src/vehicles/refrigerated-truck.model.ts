// Refrigerated truck (冷藏车): the reefer unit holds the box at its setpoint all day and night — driving, at
// delivery stops with the doors open, and parked at the cold store (where it runs on shore power / the battery).
import { SITES, loopRoute, offset } from '../geo.js';
import type { Rng } from '../random.js';
import { powertrainSpec, shiftStatus, type BodyContext, type BodyModel, type BodyOutput, type VehicleClassModel } from './vehicle-class.js';

const SHIFTS = [[6.5, 16.5]] as const;

export class ReeferBody implements BodyModel {
  readonly setpointC: number;
  boxC: number;
  private doorOpen = false;
  private compressorOn = false;
  private readonly uaKwPerK: number;

  constructor(rng: Rng) {
    this.setpointC = rng.chance(0.4) ? -18 : rng.pick([2, 4, 5]);
    this.boxC = this.setpointC + rng.uniform(-0.5, 1);
    this.uaKwPerK = rng.uniform(0.09, 0.13); // insulated box heat gain, kW per K
  }

  step(mode: string, ctx: BodyContext): BodyOutput {
    this.doorOpen = mode === 'doors-open';
    // Heat gain through the walls (and the open door), the unit pulls the box back to its setpoint.
    const gainKw = this.uaKwPerK * (ctx.ambientC - this.boxC) + (this.doorOpen ? 4 : 0);
    const error = this.boxC - this.setpointC;
    const frozen = this.setpointC < -5;
    const capacityKw = frozen ? 8 : 10;
    const coolKw = Math.min(capacityKw, Math.max(0, gainKw + error * 3));
    this.compressorOn = coolKw > 0.2;
    // Box thermal mass (cargo + air) ≈ 1 kWh per K.
    this.boxC += ((gainKw - coolKw) * ctx.dtS) / 3600;
    const cop = frozen ? 1.3 : 2.2;
    return { active: true, powerKw: 0.4 + coolKw / cop };
  }

  signals() {
    return {
      box_temp_c: Math.round(this.boxC * 10) / 10,
      setpoint_c: this.setpointC,
      door_open: this.doorOpen,
      compressor_on: this.compressorOn,
    };
  }

  cargoKg(): number {
    return 3000;
  }
}

export const refrigeratedTruck: VehicleClassModel<ReeferBody> = {
  type: 'refrigerated_truck',
  alias: 'reefer',
  code: 'RFR',
  label: 'refrigerated truck',
  bodyType: 'reefer',
  powertrains: ['bev', 'fcev', 'ice', 'phev'],
  chassis: { massKg: 8000, cdA: 5.8, crr: 0.0075, auxKw: 1.5, maxDriveKw: 160, cruiseKmh: 65 },
  powertrain: (kind) =>
    powertrainSpec(kind, {
      bev: { batteryKwh: 140, chargerKw: 60, cellsSeries: 168 },
      fcev: { batteryKwh: 40, h2CapacityKg: 12, fuelCellKw: 70 },
      ice: { fuelCapacityL: 150, engineKw: 150 },
      phev: { batteryKwh: 60, fuelCapacityL: 120, engineKw: 100, chargerKw: 40 },
    }),
  reportIntervalS: 10,
  alwaysOnBody: 'cool',
  home: SITES.coldStore,
  createBeat: (rng) => loopRoute(rng, offset(SITES.coldStore, rng.uniform(-7000, -2000), rng.uniform(0, 4000)), rng.uniform(3000, 6000), rng.int(6, 10)),
  createBody: (rng) => new ReeferBody(rng),
  plan(ctx) {
    const shift = shiftStatus(ctx.localHour, SHIFTS);
    const atStore = ctx.at(ctx.home);
    if (!shift.on || shift.leftS < 30 * 60) {
      if (!atStore) return ctx.driveTo('return to cold store', ctx.home, 55, 'cool');
      return ctx.park('parked, reefer on shore power', Math.min(shift.on ? shift.leftS : shift.untilNextS, 4 * 3600), 'off', 'cool', true);
    }
    const beatPoint = ctx.beat.at(ctx.beatM);
    if (!ctx.at(beatPoint, 300)) return ctx.driveTo('to delivery round', beatPoint, 55, 'cool');
    return ctx.follow('cold-chain deliveries', ctx.rng.uniform(4000, 8000), ctx.rng.uniform(30, 50), 'cool', {
      state: 'driving',
      stops: { everyM: [1500, 4000], dwellS: [300, 900], dwellBody: 'doors-open', dwellState: 'idle' },
    });
  },
};
