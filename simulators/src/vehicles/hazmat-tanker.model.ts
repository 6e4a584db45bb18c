// Hazardous-chemical tanker (危化品运输车): loads at the chemical park, drives to a customer 8–25 km away at a
// limited speed, unloads with the cargo pump, returns; reports tank pressure, temperature and fill level.
import { SITES, destination } from '../geo.js';
import type { LatLon } from '../geo.js';
import type { Rng } from '../random.js';
import { powertrainSpec, shiftStatus, type BodyContext, type BodyModel, type BodyOutput, type VehicleClassModel } from './vehicle-class.js';
import { stationLoop } from './emergency-mission.js';

const CAPACITY_KG = 20_000;
const SHIFTS = [[7, 19]] as const;
/** Tankers keep to arterial roads and ring roads: few junction stops. */
const ARTERIAL_STOPS = { everyM: [2500, 8000], dwellS: [0, 40] } as const;

export class TankBody implements BodyModel {
  fillPct = 0;
  customer: LatLon | undefined;
  readonly cargo: string;
  private tempC: number;
  private valveOpen = false;
  private pumpOn = false;

  constructor(rng: Rng) {
    this.cargo = rng.pick(['UN1203', 'UN1830', 'UN1170', 'UN1005']);
    this.tempC = 18;
  }

  step(mode: string, ctx: BodyContext): BodyOutput {
    const minutes = ctx.dtS / 60;
    // The tank shell follows the air with a long lag, warmed by the sun around midday.
    this.tempC += (ctx.ambientC + 3 - this.tempC) * Math.min(1, ctx.dtS / 5400);
    this.valveOpen = mode === 'load' || mode === 'unload';
    this.pumpOn = mode === 'unload';
    if (mode === 'load') this.fillPct = Math.min(95, this.fillPct + minutes * 3);
    if (mode === 'unload') this.fillPct = Math.max(0, this.fillPct - minutes * 3);
    if (mode === 'unload') return { active: true, powerKw: ctx.rng.uniform(7, 11) };
    if (mode === 'load') return { active: true, powerKw: 0.5 };
    return { active: false, powerKw: 0 };
  }

  /** Vapour pressure of the cargo rises with the tank temperature and the ullage shrinks as it fills. */
  pressureBar(): number {
    return Math.max(0, 0.3 + 0.025 * (this.tempC - 15) + 0.006 * this.fillPct);
  }

  signals() {
    return {
      cargo_un: this.cargo,
      fill_pct: Math.round(this.fillPct * 10) / 10,
      tank_pressure_bar: Math.round(this.pressureBar() * 100) / 100,
      tank_temp_c: Math.round(this.tempC * 10) / 10,
      valve_open: this.valveOpen,
      pump_on: this.pumpOn,
    };
  }

  cargoKg(): number {
    return (CAPACITY_KG * this.fillPct) / 100;
  }
}

export const hazmatTanker: VehicleClassModel<TankBody> = {
  type: 'hazmat_tanker',
  alias: 'tanker',
  code: 'TNK',
  label: 'hazardous-chemical tanker',
  bodyType: 'tanker',
  powertrains: ['ice', 'fcev'],
  chassis: { massKg: 16_000, cdA: 8.0, crr: 0.0065, auxKw: 2.5, maxDriveKw: 330, cruiseKmh: 60 },
  powertrain: (kind) =>
    powertrainSpec(kind, {
      ice: { fuelCapacityL: 400, engineKw: 330 },
      fcev: { batteryKwh: 100, h2CapacityKg: 40, fuelCellKw: 120, maxRegenKw: 150 },
    }),
  reportIntervalS: 10,
  home: SITES.chemicalPark,
  createBeat: (rng) => stationLoop(rng, SITES.chemicalPark),
  createBody: (rng) => new TankBody(rng),
  plan(ctx, tank) {
    const shift = shiftStatus(ctx.localHour, SHIFTS);
    const atPark = ctx.at(ctx.home);
    if (tank.customer && tank.fillPct > 1) {
      if (!ctx.at(tank.customer)) return ctx.driveTo('loaded run to customer', tank.customer, 60, 'off', { stops: ARTERIAL_STOPS });
      return ctx.park('unloading', 35 * 60, 'working', 'unload');
    }
    if (!atPark) {
      tank.customer = undefined;
      return ctx.driveTo('empty run back to the chemical park', ctx.home, 60, 'off', { stops: ARTERIAL_STOPS });
    }
    if (!shift.on || shift.leftS < 2 * 3600) return ctx.park('parked at the chemical park', shift.on ? shift.leftS : shift.untilNextS, 'off', 'off', true);
    tank.customer = destination(ctx.home, ctx.rng.uniform(180, 300), ctx.rng.uniform(8000, 25000));
    return ctx.park('loading', 32 * 60, 'working', 'load');
  },
};
