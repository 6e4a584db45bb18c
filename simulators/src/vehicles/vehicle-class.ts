// What a vehicle class model is: its chassis, the powertrains it is built with, its upper body and its duty cycle
// (a plan that hands the simulator one activity at a time). The class files (`<class>.model.ts`) fill this in;
// simulated-vehicle.ts runs it.
import type { BodyType } from '@fleet/contracts';
import type { ChassisSpec } from '../energy/road-load.js';
import type { Powertrain, PowertrainSpec } from '../energy/powertrain.js';
import type { LatLon, Route } from '../geo.js';
import type { Rng } from '../random.js';

export { VEHICLE_TYPES, type VehicleType } from '@fleet/contracts';
import type { VehicleType } from '@fleet/contracts';

export type DrivingState = 'off' | 'idle' | 'driving' | 'working';

/** What the body is asked to do; each class names its own modes ('sweep', 'pump', 'extend', …). */
export type BodyMode = string;

export interface Stops {
  /** Distance between stops, m (uniform in the range). */
  everyM: readonly [number, number];
  /** Dwell at each stop, s (uniform in the range). */
  dwellS: readonly [number, number];
  /** Body mode and state while dwelling (a compaction cycle, bus doors open, a delivery). */
  dwellBody?: BodyMode;
  dwellState?: DrivingState;
}

export type Activity =
  | {
      kind: 'park';
      label: string;
      durationS: number;
      state: DrivingState;
      body: BodyMode;
      /** Plugged into a depot charger: bev/phev/fcev batteries charge while parked. */
      plugIn?: boolean;
    }
  | {
      kind: 'drive';
      label: string;
      route: Route;
      fromM: number;
      distanceM: number;
      speedKmh: number;
      state: 'driving' | 'working';
      body: BodyMode;
      stops?: Stops;
      /** Extra rolling resistance while working (brushes on the road). */
      extraCrr?: number;
      /** Remember where on the beat the vehicle stopped, to continue there next time. */
      beat?: boolean;
    }
  | { kind: 'charge'; label: string; body: BodyMode }
  | { kind: 'refuel'; label: string; body: BodyMode };

/** Output of the upper body for one step. */
export interface BodyOutput {
  active: boolean;
  powerKw: number;
}

export interface BodyContext {
  dtS: number;
  speedKmh: number;
  ambientC: number;
  rng: Rng;
}

/** The upper body's state: its power draw and the signals it reports in `body.signals`. */
export interface BodyModel {
  step(mode: BodyMode, ctx: BodyContext): BodyOutput;
  signals(): Record<string, number | string | boolean>;
  /** Payload carried (water, refuse, cargo), kg, added to the chassis mass on the road. */
  cargoKg?(): number;
}

/** What a duty-cycle plan may look at and build with. */
export interface PlanContext {
  rng: Rng;
  nowMs: number;
  /** Hour of day in Suizhou (UTC+8), fractional. */
  localHour: number;
  position: LatLon;
  home: LatLon;
  beat: Route;
  /** Metres along the beat where the vehicle last worked. */
  beatM: number;
  powertrain: Powertrain;
  at(site: LatLon, toleranceM?: number): boolean;
  /** Seconds until the next time the local clock shows `hour` (0..24). */
  secondsUntilHour(hour: number): number;
  park(label: string, durationS: number, state: DrivingState, body: BodyMode, plugIn?: boolean): Activity;
  driveTo(label: string, target: LatLon, speedKmh: number, body: BodyMode, options?: { state?: 'driving' | 'working'; stops?: Stops }): Activity;
  follow(label: string, distanceM: number, speedKmh: number, body: BodyMode, options?: { state?: 'driving' | 'working'; stops?: Stops; extraCrr?: number }): Activity;
  /** Emits an `incident` event (a dispatch, a scene arrival). */
  incident(code: string, data?: Record<string, number | string | boolean>, message?: string): void;
}

/** Where the local clock is relative to a list of working windows [[start, end], …] in hours. */
export function shiftStatus(localHour: number, windows: ReadonlyArray<readonly [number, number]>): { on: boolean; leftS: number; untilNextS: number } {
  for (const [start, end] of windows) {
    if (localHour >= start && localHour < end) return { on: true, leftS: (end - localHour) * 3600, untilNextS: 0 };
  }
  let next = Infinity;
  for (const [start] of windows) next = Math.min(next, (start - localHour + 24) % 24);
  return { on: false, leftS: 0, untilNextS: next * 3600 };
}

export interface VehicleClassModel<B extends BodyModel = BodyModel> {
  type: VehicleType;
  /** Short name for --mix and ids: sweeper, compactor, … */
  alias: string;
  /** Three letters in generated ids: SZ-SWP-0001. */
  code: string;
  label: string;
  bodyType: BodyType;
  powertrains: readonly Powertrain[];
  chassis: ChassisSpec;
  powertrain(kind: Powertrain): PowertrainSpec;
  /** Seconds between samples (firmware default). */
  reportIntervalS: number;
  /** Body mode kept during depot trips, charging and refuelling (a reefer keeps cooling); default 'off'. */
  alwaysOnBody?: BodyMode;
  home: LatLon;
  createBeat(rng: Rng): Route;
  createBody(rng: Rng): B;
  plan(ctx: PlanContext, body: B): Activity;
}

/** Traffic lights and junctions of urban driving: a stop every 0.4–1.5 km, 0–50 s. */
export const URBAN_STOPS: Stops = { everyM: [400, 1500], dwellS: [0, 50] };
/** Driving with blue lights: junctions are crossed slowly but rarely stopped at. */
export const EMERGENCY_STOPS: Stops = { everyM: [1500, 4000], dwellS: [0, 8] };

/** Default powertrain parameters; class files override what differs. */
export function powertrainSpec(kind: Powertrain, p: Partial<Record<Powertrain, Partial<PowertrainSpec>>>): PowertrainSpec {
  const base: Record<Powertrain, PowertrainSpec> = {
    bev: { kind: 'bev', batteryKwh: 280, h2CapacityKg: 0, fuelCapacityL: 0, fuelCellKw: 0, engineKw: 0, maxRegenKw: 120, chargerKw: 120, cellsSeries: 192 },
    fcev: { kind: 'fcev', batteryKwh: 60, h2CapacityKg: 16, fuelCapacityL: 0, fuelCellKw: 90, engineKw: 0, maxRegenKw: 100, chargerKw: 0, cellsSeries: 168 },
    ice: { kind: 'ice', batteryKwh: 0, h2CapacityKg: 0, fuelCapacityL: 250, fuelCellKw: 0, engineKw: 180, maxRegenKw: 0, chargerKw: 0, cellsSeries: 0 },
    phev: { kind: 'phev', batteryKwh: 90, h2CapacityKg: 0, fuelCapacityL: 150, fuelCellKw: 0, engineKw: 110, maxRegenKw: 90, chargerKw: 40, cellsSeries: 168 },
  };
  return { ...base[kind], ...(p[kind] ?? {}), kind };
}
