// Garbage compactor (压缩式垃圾车): an early collection round, stop and go every 80–250 m with a lift-and-compact
// cycle at each bin point, trips to the transfer station to eject the load when full.
import { SITES, gridRoute, offset } from '../geo.js';
import type { Rng } from '../random.js';
import { powertrainSpec, shiftStatus, type BodyContext, type BodyModel, type BodyOutput, type VehicleClassModel } from './vehicle-class.js';

const CAPACITY_KG = 8000;
const CYCLE_S = 25;
const SHIFTS = [
  [4.5, 11],
  [15, 18.5],
] as const;

export class CompactorBody implements BodyModel {
  loadKg = 0;
  cycles: number;
  private cycleLeftS = 0;
  private lastMode = 'off';
  private pressureBar = 0;

  constructor(rng: Rng) {
    this.cycles = rng.int(5_000, 60_000);
  }

  step(mode: string, ctx: BodyContext): BodyOutput {
    const starting = mode !== this.lastMode;
    this.lastMode = mode;
    if (mode === 'compact') {
      if (starting) {
        // One bin lift + packer sweep per stop.
        this.cycleLeftS = CYCLE_S;
        this.cycles += 1;
        this.loadKg = Math.min(CAPACITY_KG, this.loadKg + ctx.rng.uniform(60, 200));
      }
      if (this.cycleLeftS > 0) {
        this.cycleLeftS -= ctx.dtS;
        this.pressureBar = Math.round(ctx.rng.uniform(140, 180) * (0.6 + (0.4 * this.loadKg) / CAPACITY_KG));
        // Steps longer than a cycle report the cycle's mean power over the step.
        const share = Math.min(1, CYCLE_S / Math.max(ctx.dtS, 1));
        return { active: true, powerKw: 20 * (ctx.dtS > CYCLE_S ? share : 1) + 1.2 };
      }
      this.pressureBar = 30;
      return { active: true, powerKw: 1.2 };
    }
    if (mode === 'eject') {
      this.loadKg = Math.max(0, this.loadKg - (ctx.dtS / 60) * 1500);
      this.pressureBar = Math.round(ctx.rng.uniform(120, 160));
      return { active: true, powerKw: this.loadKg > 0 ? 24 : 1.2 };
    }
    this.pressureBar = 0;
    return { active: false, powerKw: 0 };
  }

  signals() {
    return {
      load_kg: Math.round(this.loadKg),
      compaction_cycles: this.cycles,
      hydraulic_pressure_bar: this.pressureBar,
      packer: this.cycleLeftS > 0 ? 'compacting' : this.lastMode === 'eject' ? 'ejecting' : 'idle',
    };
  }

  cargoKg(): number {
    return this.loadKg;
  }
}

export const garbageCompactor: VehicleClassModel<CompactorBody> = {
  type: 'garbage_compactor',
  alias: 'compactor',
  code: 'CMP',
  label: 'garbage compactor',
  bodyType: 'compactor',
  powertrains: ['bev', 'fcev', 'ice'],
  chassis: { massKg: 12_500, cdA: 6.5, crr: 0.0085, auxKw: 2.5, maxDriveKw: 180, cruiseKmh: 50 },
  powertrain: (kind) =>
    powertrainSpec(kind, {
      bev: { batteryKwh: 280, chargerKw: 150 },
      fcev: { batteryKwh: 60, h2CapacityKg: 16, fuelCellKw: 90 },
      ice: { fuelCapacityL: 200, engineKw: 200 },
    }),
  reportIntervalS: 10,
  home: SITES.sanitationDepot,
  createBeat: (rng) => gridRoute(rng, offset(SITES.sanitationDepot, rng.uniform(-500, 3500), rng.uniform(0, 3500)), rng.int(4, 6), rng.int(3, 5), rng.uniform(200, 350)),
  createBody: (rng) => new CompactorBody(rng),
  plan(ctx, body) {
    const shift = shiftStatus(ctx.localHour, SHIFTS);
    if (body.loadKg > CAPACITY_KG * 0.9 || (!shift.on && body.loadKg > 500)) {
      if (!ctx.at(SITES.transferStation)) return ctx.driveTo('to transfer station', SITES.transferStation, 50, 'off');
      return ctx.park('eject load', 600, 'working', 'eject');
    }
    if (!shift.on || shift.leftS < 15 * 60) {
      if (!ctx.at(ctx.home)) return ctx.driveTo('return to depot', ctx.home, 45, 'off');
      return ctx.park('off shift', shift.on ? shift.leftS : shift.untilNextS, 'off', 'off', true);
    }
    const beatPoint = ctx.beat.at(ctx.beatM);
    if (!ctx.at(beatPoint, 250)) return ctx.driveTo('to collection round', beatPoint, 45, 'off');
    return ctx.follow('collect', ctx.rng.uniform(1000, 2500), ctx.rng.uniform(15, 25), 'off', {
      state: 'driving',
      stops: { everyM: [80, 250], dwellS: [40, 110], dwellBody: 'compact', dwellState: 'working' },
    });
  },
};
