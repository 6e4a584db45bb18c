// Fire engine (水罐消防车): waits at the station plugged in, is dispatched at speed with blue lights, pumps at the scene
// (1 500–3 000 l/min at 8–12 bar, tank first, then a hydrant), rolls up, returns and refills its tank.
import { SITES, type LatLon } from '../geo.js';
import { emergencyMission, stationLoop, type MissionPhase } from './emergency-mission.js';
import { powertrainSpec, type BodyContext, type BodyModel, type BodyOutput, type VehicleClassModel } from './vehicle-class.js';

const TANK_L = 4000;
/** Calls per day per engine. */
const CALLS_PER_DAY = 2.5;

export class FirePumpBody implements BodyModel {
  waterL = TANK_L;
  foamL = 500;
  phase: MissionPhase = 'standby';
  scene: LatLon | undefined;
  private flowLpm = 0;
  private pressureBar = 0;

  step(mode: string, ctx: BodyContext): BodyOutput {
    if (mode === 'pump') {
      this.flowLpm = ctx.rng.uniform(1500, 3000);
      this.pressureBar = Math.round(ctx.rng.uniform(8, 12) * 10) / 10;
      // The tank supplies the first minutes; then a hydrant feeds the pump and the tank level holds.
      this.waterL = Math.max(300, this.waterL - (this.flowLpm * ctx.dtS) / 60 / 4);
      this.foamL = Math.max(0, this.foamL - (ctx.dtS / 60) * ctx.rng.uniform(0, 3));
      return { active: true, powerKw: (this.pressureBar * 1e5 * (this.flowLpm / 60_000)) / 1000 / 0.7 + 1 };
    }
    this.flowLpm = 0;
    this.pressureBar = 0;
    if (mode === 'refill') {
      this.waterL = Math.min(TANK_L, this.waterL + (ctx.dtS / 60) * 800);
      this.foamL = Math.min(500, this.foamL + (ctx.dtS / 60) * 50);
      return { active: true, powerKw: 0.8 };
    }
    return { active: false, powerKw: 0 };
  }

  signals() {
    return {
      pump_lpm: Math.round(this.flowLpm),
      pump_pressure_bar: this.pressureBar,
      water_l: Math.round(this.waterL),
      foam_l: Math.round(this.foamL),
      mission: this.phase,
    };
  }

  cargoKg(): number {
    return this.waterL + this.foamL;
  }
}

export const fireEngine: VehicleClassModel<FirePumpBody> = {
  type: 'fire_engine',
  alias: 'fire',
  code: 'FIR',
  label: 'fire engine',
  bodyType: 'pump',
  powertrains: ['ice', 'bev', 'phev'],
  chassis: { massKg: 15_000, cdA: 7.0, crr: 0.008, auxKw: 3, maxDriveKw: 300, cruiseKmh: 70 },
  powertrain: (kind) =>
    powertrainSpec(kind, {
      ice: { fuelCapacityL: 300, engineKw: 280 },
      bev: { batteryKwh: 200, chargerKw: 150, maxRegenKw: 150 },
      phev: { batteryKwh: 100, fuelCapacityL: 200, engineKw: 160, chargerKw: 50 },
    }),
  reportIntervalS: 10,
  home: SITES.fireStation,
  createBeat: (rng) => stationLoop(rng, SITES.fireStation),
  createBody: () => new FirePumpBody(),
  plan: (ctx, body) => emergencyMission(ctx, body, {
    callsPerDay: CALLS_PER_DAY,
    sceneKmh: 60,
    onScene: (c) => c.park('pumping at the scene', c.rng.uniform(15, 50) * 60, 'working', 'pump'),
    afterScene: (c) => c.park('rolling up hoses', c.rng.uniform(5, 12) * 60, 'idle', 'off'),
    restock: (c, b) => (b.waterL < TANK_L - 10 ? c.park('refill tank', 600, 'working', 'refill') : undefined),
  }),
};

