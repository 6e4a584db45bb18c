// Sightseeing bus (观光巴士): loops a fixed line through the old town from 06:30 to 21:30 with a stop every
// 350–700 m and a layover at the terminal (where electric buses top up), passengers boarding and alighting.
import { Route, SITES, loopRoute } from '../geo.js';
import type { Rng } from '../random.js';
import { powertrainSpec, shiftStatus, type BodyContext, type BodyModel, type BodyOutput, type VehicleClassModel } from './vehicle-class.js';

const SERVICE = [[6.5, 21.5]] as const;

export class BusCabin implements BodyModel {
  passengers = 0;
  private doorsOpen = false;
  private lastMode = 'off';

  constructor(
    private readonly rng: Rng,
    readonly line: string,
  ) {}

  step(mode: string, _ctx: BodyContext): BodyOutput {
    this.doorsOpen = mode === 'stop' || mode === 'layover';
    if (mode === 'stop' && this.lastMode !== 'stop') {
      this.passengers = Math.max(0, Math.min(60, this.passengers - this.rng.int(0, 8) + this.rng.int(0, 9)));
    }
    if (mode === 'layover' || mode === 'off') this.passengers = 0;
    this.lastMode = mode;
    return { active: false, powerKw: 0 };
  }

  signals() {
    return { line: this.line, passengers: this.passengers, doors_open: this.doorsOpen };
  }

  cargoKg(): number {
    return this.passengers * 68;
  }
}

export const sightseeingBus: VehicleClassModel<BusCabin> = {
  type: 'sightseeing_bus',
  alias: 'bus',
  code: 'BUS',
  label: 'sightseeing bus',
  bodyType: 'none',
  powertrains: ['bev', 'fcev'],
  chassis: { massKg: 13_500, cdA: 6.5, crr: 0.007, auxKw: 5, maxDriveKw: 200, cruiseKmh: 45 },
  powertrain: (kind) =>
    powertrainSpec(kind, {
      bev: { batteryKwh: 280, chargerKw: 150, maxRegenKw: 150 },
      fcev: { batteryKwh: 30, h2CapacityKg: 25, fuelCellKw: 60 },
    }),
  reportIntervalS: 10,
  home: SITES.busTerminal,
  // The line starts and ends at the terminal, so a lap ends where the layover happens.
  createBeat: (rng) => new Route([SITES.busTerminal, ...loopRoute(rng, SITES.busTerminal, rng.uniform(2000, 3500), rng.int(8, 12)).points], true),
  createBody: (rng) => new BusCabin(rng, `Y${rng.int(1, 9)}`),
  plan(ctx, cabin) {
    const service = shiftStatus(ctx.localHour, SERVICE);
    const atTerminal = ctx.at(ctx.home);
    if (!service.on) {
      if (!atTerminal) return ctx.driveTo('return to terminal', ctx.home, 40, 'off');
      return ctx.park('out of service', service.untilNextS, 'off', 'off', true);
    }
    const lapM = ctx.beatM % ctx.beat.lengthM;
    if (lapM < 1 && cabin.passengers === 0 && atTerminal && ctx.rng.chance(0.5)) {
      return ctx.park('layover at terminal', ctx.rng.uniform(300, 720), 'idle', 'layover', true);
    }
    if (!ctx.at(ctx.beat.at(ctx.beatM), 300)) return ctx.driveTo('to line', ctx.beat.at(ctx.beatM), 40, 'off');
    return ctx.follow('line service', ctx.beat.lengthM - lapM, ctx.rng.uniform(28, 38), 'drive', {
      state: 'driving',
      stops: { everyM: [350, 700], dwellS: [15, 45], dwellBody: 'stop', dwellState: 'idle' },
    });
  },
};

