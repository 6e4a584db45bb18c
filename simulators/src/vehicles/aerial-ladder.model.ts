// Aerial ladder / rescue (登高平台消防车): rare calls; at the scene the outriggers go down and the ladder extends,
// moves and holds, then retracts; a short drill at the station every morning.
import { SITES, type LatLon } from '../geo.js';
import type { Rng } from '../random.js';
import { emergencyMission, stationLoop, type MissionPhase } from './emergency-mission.js';
import { powertrainSpec, shiftStatus, type BodyContext, type BodyModel, type BodyOutput, type VehicleClassModel } from './vehicle-class.js';

const MAX_EXTENSION_M = 54;
const SPEED_M_PER_S = 0.4;

export class LadderBody implements BodyModel {
  phase: MissionPhase = 'standby';
  scene: LatLon | undefined;
  drilledOnDay = -1;
  extensionM = 0;
  private angleDeg = 0;
  private target = 0;
  private outriggers = false;
  private loadKg = 0;
  private lastMode = 'off';

  constructor(private readonly rng: Rng) {}

  step(mode: string, ctx: BodyContext): BodyOutput {
    if (mode === 'operate' && this.lastMode !== 'operate') {
      this.target = this.rng.uniform(18, MAX_EXTENSION_M);
      this.outriggers = true;
    }
    if (mode === 'stow') this.target = 0;
    this.lastMode = mode;
    if (mode === 'operate' && Math.abs(this.extensionM - this.target) < 0.5 && ctx.rng.chance(0.02 * ctx.dtS)) {
      // Repositioning the platform during the operation.
      this.target = Math.min(MAX_EXTENSION_M, Math.max(12, this.extensionM + ctx.rng.uniform(-8, 8)));
    }
    const delta = this.target - this.extensionM;
    const move = Math.sign(delta) * Math.min(Math.abs(delta), SPEED_M_PER_S * ctx.dtS);
    this.extensionM += move;
    this.angleDeg = this.extensionM > 0 ? Math.min(75, 20 + this.extensionM) : 0;
    this.loadKg = mode === 'operate' && this.extensionM > 10 ? Math.round(ctx.rng.uniform(80, 320)) : 0;
    if (mode === 'stow' && this.extensionM <= 0.01) this.outriggers = false;
    if (mode !== 'operate' && mode !== 'stow') return { active: false, powerKw: 0 };
    const moving = Math.abs(move) / Math.max(ctx.dtS, 1e-9);
    return { active: true, powerKw: 4 + 35 * Math.min(1, moving / SPEED_M_PER_S) };
  }

  signals() {
    return {
      ladder_extension_m: Math.round(this.extensionM * 10) / 10,
      ladder_angle_deg: Math.round(this.angleDeg),
      outriggers_deployed: this.outriggers,
      platform_load_kg: this.loadKg,
      mission: this.phase,
    };
  }
}

export const aerialLadder: VehicleClassModel<LadderBody> = {
  type: 'aerial_ladder',
  alias: 'ladder',
  code: 'LAD',
  label: 'aerial ladder / rescue',
  bodyType: 'ladder',
  powertrains: ['ice', 'phev'],
  chassis: { massKg: 26_000, cdA: 8.0, crr: 0.008, auxKw: 3, maxDriveKw: 330, cruiseKmh: 65 },
  powertrain: (kind) =>
    powertrainSpec(kind, {
      ice: { fuelCapacityL: 350, engineKw: 330 },
      phev: { batteryKwh: 120, fuelCapacityL: 250, engineKw: 200, chargerKw: 50, maxRegenKw: 150 },
    }),
  reportIntervalS: 10,
  home: SITES.fireStation,
  createBeat: (rng) => stationLoop(rng, SITES.fireStation),
  createBody: (rng) => new LadderBody(rng),
  plan(ctx, body) {
    // Morning drill: extend and stow in the yard, once a day.
    const day = Math.floor((ctx.nowMs + 8 * 3_600_000) / 86_400_000);
    if (body.phase === 'standby' && body.extensionM > 0.01) return ctx.park('stow after drill', 300, 'working', 'stow');
    if (body.phase === 'standby' && body.drilledOnDay !== day && shiftStatus(ctx.localHour, [[9, 10]]).on && ctx.at(ctx.home)) {
      body.drilledOnDay = day;
      return ctx.park('ladder drill', 20 * 60, 'working', 'operate');
    }
    return emergencyMission(ctx, body, {
      callsPerDay: 0.8,
      sceneKmh: 55,
      onScene: (c) => c.park('ladder operation at the scene', c.rng.uniform(20, 60) * 60, 'working', 'operate'),
      afterScene: (c) => c.park('retract ladder and outriggers', 360, 'working', 'stow'),
    });
  },
};
