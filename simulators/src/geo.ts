// Geometry around Suizhou without a map service: haversine distances, bearings, destination points, a smooth
// synthetic terrain for altitude and grade, and generated routes (street grids, loops, trips) as waypoint polylines.
import type { Rng } from './random.js';

export interface LatLon {
  lat: number;
  lon: number;
}

/** Suizhou, Hubei: the centre of every generated route. */
export const SUIZHOU: LatLon = { lat: 31.69, lon: 113.38 };

const EARTH_RADIUS_M = 6_371_008.8;
const RAD = Math.PI / 180;

export function haversineM(a: LatLon, b: LatLon): number {
  const dLat = (b.lat - a.lat) * RAD;
  const dLon = (b.lon - a.lon) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * RAD) * Math.cos(b.lat * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Initial bearing from a to b, degrees clockwise from north in [0, 360). */
export function bearingDeg(a: LatLon, b: LatLon): number {
  const φ1 = a.lat * RAD;
  const φ2 = b.lat * RAD;
  const Δλ = (b.lon - a.lon) * RAD;
  const y = Math.sin(Δλ) * Math.cos(φ2);
  const x = Math.cos(φ1) * Math.sin(φ2) - Math.sin(φ1) * Math.cos(φ2) * Math.cos(Δλ);
  return ((Math.atan2(y, x) / RAD) % 360 + 360) % 360;
}

/** The point `distanceM` away from `from` along `bearing` (great circle). */
export function destination(from: LatLon, bearing: number, distanceM: number): LatLon {
  const δ = distanceM / EARTH_RADIUS_M;
  const θ = bearing * RAD;
  const φ1 = from.lat * RAD;
  const λ1 = from.lon * RAD;
  const φ2 = Math.asin(Math.sin(φ1) * Math.cos(δ) + Math.cos(φ1) * Math.sin(δ) * Math.cos(θ));
  const λ2 = λ1 + Math.atan2(Math.sin(θ) * Math.sin(δ) * Math.cos(φ1), Math.cos(δ) - Math.sin(φ1) * Math.sin(φ2));
  return { lat: φ2 / RAD, lon: (((λ2 / RAD + 540) % 360) - 180) };
}

/** Offset in metres east/north of an origin (small distances, equirectangular is exact enough). */
export function offset(origin: LatLon, eastM: number, northM: number): LatLon {
  return {
    lat: origin.lat + northM / (EARTH_RADIUS_M * RAD),
    lon: origin.lon + eastM / (EARTH_RADIUS_M * RAD * Math.cos(origin.lat * RAD)),
  };
}

/**
 * Smooth synthetic terrain: Suizhou lies at 60–150 m between the Tongbai and Dahong hills, so a few long sine
 * waves give realistic altitudes and grades of a few per cent without any elevation data.
 */
export function altitudeM(p: LatLon): number {
  const x = (p.lon - SUIZHOU.lon) * 95_000; // metres east
  const y = (p.lat - SUIZHOU.lat) * 111_000; // metres north
  return 95 + 22 * Math.sin(x / 2300) * Math.cos(y / 3100) + 9 * Math.sin((x + y) / 900) + 14 * Math.sin(y / 5200);
}

export interface RoutePoint extends LatLon {
  headingDeg: number;
  altM: number;
  /** Rise over run along the direction of travel (0.03 = 3 % uphill). */
  grade: number;
}

/** A polyline of waypoints with cumulative distances; `closed` routes wrap around (loops). */
export class Route {
  readonly lengthM: number;
  private readonly cumulative: number[];
  private readonly vertices: LatLon[];

  constructor(
    readonly points: readonly LatLon[],
    readonly closed: boolean,
  ) {
    if (points.length < 2) throw new RangeError('a route needs at least two points');
    const all = closed ? [...points, points[0] as LatLon] : [...points];
    this.cumulative = [0];
    let total = 0;
    for (let i = 1; i < all.length; i++) {
      total += haversineM(all[i - 1] as LatLon, all[i] as LatLon);
      this.cumulative.push(total);
    }
    this.lengthM = total;
    this.vertices = all;
  }

  get start(): LatLon {
    return this.vertices[0] as LatLon;
  }

  get end(): LatLon {
    return this.vertices[this.vertices.length - 1] as LatLon;
  }

  /** Position at `distanceM` along the route (wrapped for loops, clamped otherwise). */
  at(distanceM: number): RoutePoint {
    let d = distanceM;
    if (this.closed) d = ((d % this.lengthM) + this.lengthM) % this.lengthM;
    else d = Math.min(Math.max(d, 0), this.lengthM);
    // Binary search of the segment holding d.
    let lo = 0;
    let hi = this.cumulative.length - 1;
    while (hi - lo > 1) {
      const mid = (lo + hi) >> 1;
      if ((this.cumulative[mid] as number) <= d) lo = mid;
      else hi = mid;
    }
    const a = this.vertices[lo] as LatLon;
    const b = this.vertices[hi] as LatLon;
    const segStart = this.cumulative[lo] as number;
    const segLen = (this.cumulative[hi] as number) - segStart;
    const f = segLen > 0 ? (d - segStart) / segLen : 0;
    const p = { lat: a.lat + (b.lat - a.lat) * f, lon: a.lon + (b.lon - a.lon) * f };
    const heading = segLen > 0 ? bearingDeg(a, b) : 0;
    const alt = altitudeM(p);
    const ahead = offset(p, 10 * Math.sin(heading * RAD), 10 * Math.cos(heading * RAD));
    return { ...p, headingDeg: heading, altM: alt, grade: (altitudeM(ahead) - alt) / 10 };
  }
}

/**
 * A street-grid beat (sweeper, sprinkler, compactor collection area): a serpentine over `cols` × `rows` blocks,
 * closed back to its start so it can be worked round and round.
 */
export function gridRoute(rng: Rng, centre: LatLon, cols: number, rows: number, blockM: number): Route {
  const points: LatLon[] = [];
  const x0 = (-cols * blockM) / 2;
  const y0 = (-rows * blockM) / 2;
  for (let r = 0; r <= rows; r++) {
    const y = y0 + r * blockM + rng.uniform(-0.08, 0.08) * blockM;
    const xs = [x0, x0 + cols * blockM];
    if (r % 2 === 1) xs.reverse();
    for (const x of xs) points.push(offset(centre, x + rng.uniform(-0.05, 0.05) * blockM, y));
  }
  return new Route(points, true);
}

/** An irregular loop of `n` waypoints at 60–100 % of `radiusM` (bus line, delivery round). */
export function loopRoute(rng: Rng, centre: LatLon, radiusM: number, n: number): Route {
  const points: LatLon[] = [];
  const phase = rng.uniform(0, 360);
  for (let i = 0; i < n; i++) {
    const bearing = phase + (360 * i) / n + rng.uniform(-8, 8);
    points.push(destination(centre, bearing, radiusM * rng.uniform(0.6, 1)));
  }
  return new Route(points, true);
}

/** A trip along streets from a to b: Manhattan-like legs with jitter, so distances exceed the straight line. */
export function tripRoute(rng: Rng, from: LatLon, to: LatLon): Route {
  const distance = haversineM(from, to);
  if (distance < 20) return new Route([from, offset(to, 20, 0)], false);
  const eastFirst = rng.chance(0.5);
  const corner: LatLon = eastFirst ? { lat: from.lat, lon: to.lon } : { lat: to.lat, lon: from.lon };
  const points: LatLon[] = [from];
  const legs = Math.max(1, Math.round(distance / 1500));
  for (let i = 1; i < legs; i++) {
    const f = i / legs;
    const via = f < 0.5 ? lerp(from, corner, f * 2) : lerp(corner, to, (f - 0.5) * 2);
    points.push(offset(via, rng.uniform(-120, 120), rng.uniform(-120, 120)));
  }
  points.push(corner, to);
  return new Route(points, false);
}

function lerp(a: LatLon, b: LatLon, f: number): LatLon {
  return { lat: a.lat + (b.lat - a.lat) * f, lon: a.lon + (b.lon - a.lon) * f };
}

/** Depots and sites of the simulated city (fixed, so every seed shares one map). */
export const SITES = {
  sanitationDepot: offset(SUIZHOU, -2200, -1400),
  transferStation: offset(SUIZHOU, -6500, -4200),
  hydrant: offset(SUIZHOU, 900, -600),
  logisticsHub: offset(SUIZHOU, 4200, -3100),
  coldStore: offset(SUIZHOU, 5100, -2500),
  fireStation: offset(SUIZHOU, 600, 1500),
  hospital: offset(SUIZHOU, -900, 800),
  ambulanceStation: offset(SUIZHOU, -1300, 2400),
  busTerminal: offset(SUIZHOU, 300, -300),
  chemicalPark: offset(SUIZHOU, 9000, 6000),
  energyStation: offset(SUIZHOU, 3000, 2000),
} as const satisfies Record<string, LatLon>;
