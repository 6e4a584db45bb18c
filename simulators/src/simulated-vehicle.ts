// One simulated vehicle: runs its class's duty cycle activity by activity in fixed simulated-time steps, moves it
// along its routes, feeds the road load and the body into the powertrain, raises alarms, and emits v1 telemetry
// samples and events. Deterministic: the output depends only on the seed, the definition and the start time.
import type { BodyType, TelemetrySample, VehicleEvent, VehicleState } from '@fleet/contracts';
import { AlarmGenerator, DEFAULT_ALARM_RATES, type AlarmRates, type EventDraft } from './alarms.js';
import { PowertrainState, clamp, round, type EnergyCounters, type Powertrain } from './energy/powertrain.js';
import { ambientC, roadLoad } from './energy/road-load.js';
import { SITES, altitudeM, haversineM, tripRoute, type LatLon, type Route, type RoutePoint } from './geo.js';
import { Rng } from './random.js';
import { URBAN_STOPS, type Activity, type BodyModel, type DrivingState, type PlanContext, type VehicleClassModel, type VehicleType } from './vehicles/vehicle-class.js';
import { vehicleClass } from './vehicles/index.js';

export interface VehicleDefinition {
  id: string;
  type: VehicleType;
  bodyType: BodyType;
  powertrain: Powertrain;
}

export interface SimulationOptions {
  seed: string;
  /** Simulated time of the first sample (before the per-vehicle phase offset), epoch ms. */
  startMs: number;
  /** Seconds between samples (default: the class's interval, 10 s). */
  reportIntervalS?: number;
  /** Longest physics step, s (default 1; backfill uses 5). Report intervals are a whole number of steps. */
  maxStepS?: number;
  alarms?: Partial<AlarmRates>;
}

interface DriveProgress {
  travelledM: number;
  speedMs: number;
  nextStopM: number;
  dwellLeftS: number;
}

/** Sample without the envelope that the firmware fills in (seq, possibly skewed ts). */
export type SampleBody = Omit<TelemetrySample, 'v' | 'ts' | 'seq'>;

const MIN_ENERGY_FRACTION = 0.18;

export class SimulatedVehicle {
  readonly model: VehicleClassModel;
  readonly reportIntervalS: number;
  readonly stepS: number;
  nowMs: number;
  private nextReportMs: number;
  private seq = 0;
  private eventSeq = 0;
  private readonly rng: Rng;
  private readonly body: BodyModel;
  readonly powertrain: PowertrainState;
  private readonly alarms: AlarmGenerator;
  private readonly beat: Route;
  private beatM = 0;
  private position: RoutePoint;
  private odometerKm: number;
  private bodyHours: number;
  private activity: Activity | undefined;
  private activityLeftS = 0;
  private drive: DriveProgress = { travelledM: 0, speedMs: 0, nextStopM: Infinity, dwellLeftS: 0 };
  private state: VehicleState = 'off';
  private speedKmh = 0;
  private bodyActive = false;
  private bodyKw = 0;
  private plugCharging = false;
  private readonly pendingEvents: EventDraft[] = [];

  constructor(
    readonly definition: VehicleDefinition,
    options: SimulationOptions,
  ) {
    this.model = vehicleClass(definition.type);
    if (!this.model.powertrains.includes(definition.powertrain)) {
      throw new RangeError(`${definition.type} is not built with powertrain ${definition.powertrain}`);
    }
    const setup = Rng.stream(options.seed, definition.id, 'setup');
    this.rng = Rng.stream(options.seed, definition.id, 'model');
    this.reportIntervalS = Math.max(1, Math.round(options.reportIntervalS ?? this.model.reportIntervalS));
    const maxStep = options.maxStepS ?? 1;
    this.stepS = this.reportIntervalS / Math.ceil(this.reportIntervalS / maxStep);
    // Vehicles do not report in lock-step: each gets a whole-second phase within its interval.
    this.nowMs = options.startMs + setup.int(0, this.reportIntervalS - 1) * 1000;
    this.nextReportMs = this.nowMs;
    this.beat = this.model.createBeat(Rng.stream(options.seed, definition.id, 'beat'));
    this.body = this.model.createBody(Rng.stream(options.seed, definition.id, 'body'));
    // A vehicle in service for 1–5 years: counters start from a plausible history, not zero.
    const years = setup.uniform(0.5, 5);
    this.odometerKm = round(years * setup.uniform(12_000, 30_000), 1);
    this.bodyHours = round(years * setup.uniform(300, 1200), 1);
    const spec = this.model.powertrain(definition.powertrain);
    const perKm = this.model.chassis.massKg / 12_000; // ~1 kWh/km for a 12 t truck
    const counters: EnergyCounters = {
      traction_kwh: round(this.odometerKm * perKm, 3),
      body_kwh: round(this.bodyHours * 6, 3),
      regen_kwh: spec.kind === 'ice' ? 0 : round(this.odometerKm * perKm * 0.15, 3),
      charged_kwh: spec.chargerKw > 0 ? round(this.odometerKm * perKm * (spec.kind === 'phev' ? 0.5 : 1.1), 3) : 0,
      h2_used_kg: spec.kind === 'fcev' ? round(this.odometerKm * perKm * 0.065, 3) : 0,
      fuel_used_l: spec.kind === 'ice' ? round(this.odometerKm * perKm * 0.3, 3) : spec.kind === 'phev' ? round(this.odometerKm * perKm * 0.12, 3) : 0,
      engine_hours: spec.kind === 'ice' ? round(years * 2200, 1) : spec.kind === 'phev' ? round(years * 600, 1) : 0,
    };
    this.powertrain = new PowertrainState(spec, {
      soc: setup.uniform(0.55, 0.95),
      h2Frac: setup.uniform(0.45, 0.95),
      fuelFrac: setup.uniform(0.45, 0.95),
      counters,
      sohPct: 100 - years * setup.uniform(1, 3),
      ambientC: ambientC(this.nowMs),
      cellSpreadV: setup.uniform(0.003, 0.006) + years * 0.001,
    });
    this.alarms = new AlarmGenerator(Rng.stream(options.seed, definition.id, 'alarms'), definition.powertrain, definition.bodyType, {
      ...DEFAULT_ALARM_RATES,
      ...options.alarms,
    });
    const parked = this.model.home;
    this.position = { ...parked, headingDeg: round(setup.uniform(0, 360), 0), altM: altitudeM(parked), grade: 0 };
  }

  /** Simulated time of the next sample. */
  get nextSampleMs(): number {
    return this.nextReportMs;
  }

  /**
   * Steps the model up to `targetMs` (in whole steps) and returns the samples and events that fall due on the way.
   * Samples come without `seq`/`ts` envelope decisions of the firmware: `ts` is simulated time, `seq` counts up.
   */
  advanceTo(targetMs: number): { samples: TelemetrySample[]; events: VehicleEvent[] } {
    const samples: TelemetrySample[] = [];
    const events: VehicleEvent[] = [];
    const stepMs = this.stepS * 1000;
    while (this.nowMs <= targetMs) {
      if (this.nowMs >= this.nextReportMs) {
        samples.push(this.sample());
        this.nextReportMs += this.reportIntervalS * 1000;
      }
      for (const draft of this.pendingEvents.splice(0)) events.push(this.event(draft));
      if (this.nowMs + stepMs > targetMs) break;
      this.step(this.stepS);
      this.nowMs += stepMs;
    }
    return { samples, events };
  }

  private event(d: EventDraft): VehicleEvent {
    const e: VehicleEvent = { v: 1, ts: new Date(d.ts).toISOString(), seq: this.eventSeq++, kind: d.kind, code: d.code };
    if (d.level !== undefined) e.level = d.level;
    if (d.active !== undefined) e.active = d.active;
    if (d.message !== undefined) e.message = d.message;
    if (d.data !== undefined) e.data = d.data;
    return e;
  }

  private emit(kind: EventDraft['kind'], code: string, data?: Record<string, number | string | boolean>, message?: string): void {
    this.pendingEvents.push({ ts: this.nowMs, kind, code, ...(data ? { data } : {}), ...(message ? { message } : {}) });
  }

  private step(dtS: number): void {
    if (!this.activity || this.activityDone()) this.nextActivity();
    const a = this.activity as Activity;
    const ambient = ambientC(this.nowMs);
    const bodyCtx = { dtS, speedKmh: 0, ambientC: ambient, rng: this.rng };
    let state: VehicleState;
    switch (a.kind) {
      case 'park': {
        this.activityLeftS -= dtS;
        this.speedKmh = 0;
        const out = this.body.step(a.body, bodyCtx);
        this.setBody(out.active, out.powerKw, dtS);
        state = a.state === 'off' && out.active ? 'working' : a.state;
        const awake = state !== 'off';
        const shorePower = a.plugIn === true;
        this.powertrain.step({ dtS, wheelKw: 0, bodyKw: out.powerKw, auxKw: awake ? this.model.chassis.auxKw * 0.6 : 0, awake, speedKmh: 0, ambientC: ambient, shorePower });
        if (shorePower && this.powertrain.spec.chargerKw > 0) {
          // Hysteresis: charge when plugged in below 95 %, stop at 97 %, start again only below 90 %.
          if (this.plugCharging && this.powertrain.soc >= 0.97) this.plugCharging = false;
          else if (!this.plugCharging && this.powertrain.soc < 0.9) this.plugCharging = true;
          if (this.plugCharging) {
            this.powertrain.charge(dtS, ambient);
            state = 'charging';
          }
        }
        break;
      }
      case 'charge': {
        const out = this.body.step(a.body, bodyCtx);
        this.setBody(out.active, out.powerKw, dtS);
        this.powertrain.step({ dtS, wheelKw: 0, bodyKw: out.powerKw, auxKw: 0, awake: false, speedKmh: 0, ambientC: ambient, shorePower: true });
        this.powertrain.charge(dtS, ambient);
        this.activityLeftS = this.powertrain.soc >= 0.95 ? 0 : 1;
        this.speedKmh = 0;
        state = 'charging';
        break;
      }
      case 'refuel': {
        const out = this.body.step(a.body, bodyCtx);
        this.setBody(out.active, out.powerKw, dtS);
        if (out.powerKw > 0) this.powertrain.step({ dtS, wheelKw: 0, bodyKw: out.powerKw, auxKw: 0, awake: false, speedKmh: 0, ambientC: ambient });
        const full = this.powertrain.refuel(dtS);
        this.activityLeftS -= dtS;
        if (!full) this.activityLeftS = Math.max(this.activityLeftS, 1);
        this.speedKmh = 0;
        state = 'refuelling';
        break;
      }
      case 'drive':
        state = this.driveStep(a, dtS, ambient);
        break;
    }
    if (state !== this.state) this.stateChanged(this.state, state);
    this.state = state;
    const battery = this.powertrain.batteryBlock();
    const drafts = this.alarms.step(
      this.nowMs + dtS * 1000,
      dtS,
      {
        speedKmh: this.speedKmh,
        ...(battery?.soc_pct !== undefined ? { socPct: battery.soc_pct } : {}),
      },
      state !== 'off',
    );
    for (const d of drafts) this.pendingEvents.push({ ...d, ts: this.nowMs + dtS * 1000 });
  }

  private stateChanged(from: VehicleState, to: VehicleState): void {
    const edges: Array<[boolean, string]> = [
      [from === 'off' && to !== 'off' && to !== 'charging', 'IGNITION_ON'],
      [from !== 'off' && from !== 'charging' && to === 'off', 'IGNITION_OFF'],
      [to === 'charging', 'CHARGING_STARTED'],
      [from === 'charging', 'CHARGING_ENDED'],
      [to === 'refuelling', 'REFUELLING_STARTED'],
      [from === 'refuelling', 'REFUELLING_ENDED'],
    ];
    for (const [happened, code] of edges) if (happened) this.emit('state', code, { from, to });
  }

  private setBody(active: boolean, powerKw: number, dtS: number): void {
    this.bodyActive = active;
    this.bodyKw = powerKw;
    if (active) this.bodyHours += dtS / 3600;
  }

  private driveStep(a: Extract<Activity, { kind: 'drive' }>, dtS: number, ambient: number): VehicleState {
    const p = this.drive;
    const v0 = p.speedMs;
    let v1: number;
    let dwelling = false;
    if (p.dwellLeftS > 0) {
      p.dwellLeftS -= dtS;
      v1 = 0;
      dwelling = true;
      if (p.dwellLeftS <= 0) this.scheduleStop(a);
    } else {
      const accel = 0.7;
      const decel = 1.1;
      const toStop = Math.min(p.nextStopM, a.distanceM) - p.travelledM;
      // Traffic makes the cruising speed wander ±15 % around the target.
      const cruise = (a.speedKmh / 3.6) * (1 + 0.15 * Math.sin(this.nowMs / 47_000 + this.beatM / 300));
      const vAllowed = Math.sqrt(2 * decel * Math.max(0, toStop));
      const vTarget = Math.min(cruise, vAllowed);
      v1 = clamp(vTarget, v0 - decel * dtS, v0 + accel * dtS);
      let ds = ((v0 + v1) / 2) * dtS;
      if (ds >= toStop || (v1 < 0.5 && toStop < 3)) {
        ds = Math.max(0, toStop);
        v1 = 0;
        if (p.travelledM + ds >= a.distanceM - 0.5) {
          this.activityLeftS = 0;
        } else {
          p.dwellLeftS = a.stops ? this.rng.uniform(a.stops.dwellS[0], a.stops.dwellS[1]) : 0;
          if (p.dwellLeftS <= 0) this.scheduleStop(a);
        }
      }
      p.travelledM += ds;
      this.odometerKm += ds / 1000;
      if (a.beat) this.beatM = a.fromM + p.travelledM;
    }
    p.speedMs = v1;
    const here = a.route.at(a.fromM + p.travelledM);
    this.position = here;
    this.speedKmh = ((v0 + v1) / 2) * 3.6;
    const bodyMode = dwelling && a.stops?.dwellBody ? a.stops.dwellBody : a.body;
    const out = this.body.step(bodyMode, { dtS, speedKmh: this.speedKmh, ambientC: ambient, rng: this.rng });
    this.setBody(out.active, out.powerKw, dtS);
    const chassis = a.extraCrr ? { ...this.model.chassis, crr: this.model.chassis.crr + a.extraCrr } : this.model.chassis;
    const load = roadLoad(chassis, v0, v1, dtS, here.grade, this.body.cargoKg?.() ?? 0);
    this.powertrain.step({ dtS, wheelKw: load.wheelKw, bodyKw: out.powerKw, auxKw: this.model.chassis.auxKw, awake: true, speedKmh: this.speedKmh, ambientC: ambient });
    if (dwelling) return a.stops?.dwellState ?? (out.active ? 'working' : 'idle');
    return a.state === 'working' || out.active ? 'working' : 'driving';
  }

  private scheduleStop(a: Extract<Activity, { kind: 'drive' }>): void {
    const stops = a.stops;
    this.drive.nextStopM = stops ? this.drive.travelledM + this.rng.uniform(stops.everyM[0], stops.everyM[1]) : Infinity;
  }

  private activityDone(): boolean {
    return this.activityLeftS <= 0;
  }

  private nextActivity(): void {
    const a = this.chooseActivity();
    this.activity = a;
    switch (a.kind) {
      case 'park':
        this.activityLeftS = Math.max(a.durationS, this.stepS);
        this.plugCharging = a.plugIn === true && this.powertrain.soc < 0.95;
        break;
      case 'drive':
        this.activityLeftS = 1;
        this.drive = { travelledM: 0, speedMs: 0, nextStopM: Infinity, dwellLeftS: 0 };
        this.scheduleStop(a);
        break;
      case 'charge':
        this.activityLeftS = 1;
        break;
      case 'refuel':
        this.activityLeftS = this.rng.uniform(120, 300);
        break;
    }
  }

  /** Energy first (every class goes to the depot or the station when low), then the class's own duty cycle. */
  private chooseActivity(): Activity {
    const ctx = this.planContext();
    const kind = this.powertrain.spec.kind;
    const pt = this.powertrain;
    const body = this.model.alwaysOnBody ?? 'off';
    const liquidLow =
      (kind === 'fcev' && pt.h2Kg / pt.spec.h2CapacityKg < MIN_ENERGY_FRACTION) ||
      ((kind === 'ice' || kind === 'phev') && pt.fuelL / pt.spec.fuelCapacityL < MIN_ENERGY_FRACTION);
    if (liquidLow) {
      if (ctx.at(SITES.energyStation)) return { kind: 'refuel', label: 'refuel', body };
      return ctx.driveTo('to energy station', SITES.energyStation, this.model.chassis.cruiseKmh * 0.8, body);
    }
    if (kind === 'bev' && pt.soc < MIN_ENERGY_FRACTION) {
      if (ctx.at(this.model.home)) return { kind: 'charge', label: 'charge', body };
      return ctx.driveTo('to depot charger', this.model.home, this.model.chassis.cruiseKmh * 0.8, body);
    }
    return this.model.plan(ctx, this.body);
  }

  private planContext(): PlanContext {
    const localHour = (((this.nowMs / 3_600_000 + 8) % 24) + 24) % 24;
    const here: LatLon = { lat: this.position.lat, lon: this.position.lon };
    const cruise = this.model.chassis.cruiseKmh;
    return {
      rng: this.rng,
      nowMs: this.nowMs,
      localHour,
      position: here,
      home: this.model.home,
      beat: this.beat,
      beatM: this.beatM,
      powertrain: this.powertrain.spec.kind,
      at: (site, tol = 200) => haversineM(here, site) <= tol,
      secondsUntilHour: (hour) => {
        const d = (hour - localHour + 24) % 24;
        return Math.max(this.stepS, d * 3600);
      },
      park: (label, durationS, state, body, plugIn) => ({ kind: 'park', label, durationS, state, body, ...(plugIn ? { plugIn } : {}) }),
      driveTo: (label, target, speedKmh, body, options = {}) => {
        const route = tripRoute(this.rng, here, target);
        return {
          kind: 'drive',
          label,
          route,
          fromM: 0,
          distanceM: route.lengthM,
          speedKmh: Math.min(speedKmh, cruise),
          state: options.state ?? 'driving',
          body,
          stops: options.stops ?? URBAN_STOPS,
        };
      },
      follow: (label, distanceM, speedKmh, body, options = {}) => ({
        kind: 'drive',
        label,
        route: this.beat,
        fromM: this.beatM,
        distanceM,
        speedKmh: Math.min(speedKmh, cruise),
        state: options.state ?? 'working',
        body,
        beat: true,
        ...(options.stops ? { stops: options.stops } : {}),
        ...(options.extraCrr ? { extraCrr: options.extraCrr } : {}),
      }),
      incident: (code, data, message) => this.emit('incident', code, data, message),
    };
  }

  /** The telemetry sample of SPEC §3 at the current simulated time. */
  private sample(): TelemetrySample {
    const pt = this.powertrain;
    const c = pt.counters;
    const s: TelemetrySample = {
      v: 1,
      ts: new Date(this.nowMs).toISOString(),
      seq: this.seq++,
      position: {
        lat: round(this.position.lat, 6),
        lon: round(this.position.lon, 6),
        alt_m: round(this.position.altM, 1),
        heading_deg: round(this.position.headingDeg, 1),
        speed_kmh: round(this.speedKmh, 1),
      },
      odometer_km: round(this.odometerKm, 3),
      state: this.state,
    };
    const battery = pt.batteryBlock();
    if (battery) {
      if (this.alarms.isActive('BATTERY_HIGH_TEMP') && battery.temp_max_c !== undefined) battery.temp_max_c = Math.max(battery.temp_max_c, 58);
      s.battery = battery;
    }
    const hydrogen = pt.hydrogenBlock();
    if (hydrogen) s.hydrogen = hydrogen;
    const fuel = pt.fuelBlock(this.speedKmh, this.bodyKw);
    if (fuel) s.fuel = fuel;
    s.energy = {
      traction_kwh: round(c.traction_kwh, 3),
      body_kwh: round(c.body_kwh, 3),
      regen_kwh: round(c.regen_kwh, 3),
      charged_kwh: round(c.charged_kwh, 3),
      h2_used_kg: round(c.h2_used_kg, 4),
      fuel_used_l: round(c.fuel_used_l, 3),
      engine_hours: round(c.engine_hours, 3),
    };
    s.body = {
      type: this.definition.bodyType,
      active: this.bodyActive,
      power_kw: round(this.bodyKw, 2),
      hours: round(this.bodyHours, 3),
      signals: this.body.signals(),
    };
    s.dtc = this.alarms.activeDtcs();
    return s;
  }
}
