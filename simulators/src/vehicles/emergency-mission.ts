// The shared duty cycle of fire engines, ambulances and aerial ladders: standby at the station (plugged in) until a
// call arrives (a Poisson process), to the scene with blue lights, the work there, optionally via a second site (the
// hospital), back to the station and restock.
import { destination, loopRoute, type LatLon, type Route } from '../geo.js';
import type { Rng } from '../random.js';
import { EMERGENCY_STOPS, type Activity, type PlanContext } from './vehicle-class.js';

export type MissionPhase = 'standby' | 'to-scene' | 'at-scene' | 'after-scene' | 'at-via' | 'return' | 'restock';

export interface MissionBody {
  phase: MissionPhase;
  scene: LatLon | undefined;
}

export interface MissionShape<B extends MissionBody> {
  callsPerDay: number;
  sceneKmh: number;
  /** Body mode outside the scene work (an ambulance keeps its medical equipment on standby). */
  standbyBody?: string;
  onScene(ctx: PlanContext, body: B): Activity;
  afterScene?(ctx: PlanContext, body: B): Activity | undefined;
  /** A second site after the scene (an ambulance takes the patient to the hospital). */
  via?: { site: LatLon; label: string; body: string; kmh: number; dwell(ctx: PlanContext): Activity };
  restock?(ctx: PlanContext, body: B): Activity | undefined;
}

/** Emergency vehicles do not patrol: their "beat" is a short loop round the station yard. */
export function stationLoop(rng: Rng, station: LatLon): Route {
  return loopRoute(rng, station, 150, 4);
}

/** A scene 1.5–8 km from the station in a random direction. */
export function randomScene(rng: Rng, station: LatLon): LatLon {
  return destination(station, rng.uniform(0, 360), rng.uniform(1500, 8000));
}

export function emergencyMission<B extends MissionBody>(ctx: PlanContext, body: B, shape: MissionShape<B>): Activity {
  const standby = shape.standbyBody ?? 'off';
  switch (body.phase) {
    case 'standby': {
      if (!ctx.at(ctx.home)) return ctx.driveTo('return to station', ctx.home, 45, standby);
      if (body.scene === undefined) {
        // Draw the time to the next call; when this wait ends, the next plan call dispatches. Waits are cut at an
        // hour (and drawn again: the process is memoryless) so daily routines such as drills still get their turn.
        const waitS = ctx.rng.exponential((24 * 3600) / shape.callsPerDay);
        if (waitS > 3600) return ctx.park('standby at station', 3600, 'off', standby, true);
        body.scene = randomScene(ctx.rng, ctx.home);
        return ctx.park('standby at station', waitS, 'off', standby, true);
      }
      body.phase = 'to-scene';
      ctx.incident('DISPATCH', { scene_lat: round5(body.scene.lat), scene_lon: round5(body.scene.lon) }, 'dispatched');
      return ctx.driveTo('dispatched to scene', body.scene, shape.sceneKmh, standby, { stops: EMERGENCY_STOPS });
    }
    case 'to-scene':
      body.phase = 'at-scene';
      ctx.incident('ON_SCENE', undefined, 'arrived at scene');
      return shape.onScene(ctx, body);
    case 'at-scene': {
      body.phase = 'after-scene';
      const after = shape.afterScene?.(ctx, body);
      if (after) return after;
      return leaveScene(ctx, body, shape, standby);
    }
    case 'after-scene':
      return leaveScene(ctx, body, shape, standby);
    case 'at-via':
      body.phase = 'return';
      return shape.via ? shape.via.dwell(ctx) : ctx.driveTo('return to station', ctx.home, 45, standby);
    case 'return':
      body.phase = 'restock';
      return ctx.driveTo('return to station', ctx.home, 45, standby);
    case 'restock': {
      body.phase = 'standby';
      body.scene = undefined;
      return shape.restock?.(ctx, body) ?? ctx.park('standby at station', 60, 'off', standby, true);
    }
  }
}

function leaveScene<B extends MissionBody>(ctx: PlanContext, body: B, shape: MissionShape<B>, standby: string): Activity {
  if (shape.via) {
    body.phase = 'at-via';
    return ctx.driveTo(shape.via.label, shape.via.site, shape.via.kmh, shape.via.body, { stops: EMERGENCY_STOPS });
  }
  body.phase = 'restock';
  return ctx.driveTo('return to station', ctx.home, 45, standby);
}

function round5(x: number): number {
  return Math.round(x * 1e5) / 1e5;
}
