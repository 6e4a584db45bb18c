// One vehicle's powertrain state: energy stores (battery, hydrogen, diesel), the cumulative counters of SPEC §3
// (`energy.*`, engine hours) and the per-step energy flows that turn demand into consumption for bev, fcev, ice and
// phev. Counters only grow; stores go down while driving and up at a depot.
//
// Counter meanings (the query API builds its energy report on them):
//   traction_kwh  energy into the traction drive: DC bus → inverter for electric drives, engine-shaft work for diesel
//   regen_kwh     energy returned to the battery by regenerative braking (electric drives only)
//   body_kwh      energy drawn by the upper body (HV bus for electric drives, PTO shaft for diesel)
//   charged_kwh   energy put into the battery from a charger
//   h2_used_kg, fuel_used_l, engine_hours
import type { Battery, Fuel, Hydrogen } from '@fleet/contracts';
import {
  dieselRateLph,
  fuelCellEfficiency,
  hydrogenRateKgph,
  lfpOpenCircuitV,
  splitDrive,
} from './road-load.js';

export { POWERTRAINS, type Powertrain } from '@fleet/contracts';
import type { Powertrain } from '@fleet/contracts';

export function isElectricDrive(p: Powertrain): boolean {
  return p !== 'ice';
}

export interface PowertrainSpec {
  kind: Powertrain;
  /** Traction battery (bev, phev) or buffer battery (fcev), kWh; 0 for ice. */
  batteryKwh: number;
  /** Usable hydrogen, kg (fcev). */
  h2CapacityKg: number;
  /** Diesel tank, l (ice, phev). */
  fuelCapacityL: number;
  /** Fuel-cell system rated net power, kW (fcev). */
  fuelCellKw: number;
  /** Diesel engine (ice) or range-extender generator (phev) rated power, kW. */
  engineKw: number;
  /** Peak regenerative power into the battery, kW. */
  maxRegenKw: number;
  /** Depot charger power, kW. */
  chargerKw: number;
  /** Cells in series (LFP). */
  cellsSeries: number;
}

export interface EnergyCounters {
  traction_kwh: number;
  body_kwh: number;
  regen_kwh: number;
  charged_kwh: number;
  h2_used_kg: number;
  fuel_used_l: number;
  engine_hours: number;
}

export interface StepDemand {
  dtS: number;
  /** Signed wheel power, kW. */
  wheelKw: number;
  /** Upper-body power, kW (≥ 0 here). */
  bodyKw: number;
  /** Auxiliaries, kW. */
  auxKw: number;
  /** Vehicle awake (ignition on). */
  awake: boolean;
  speedKmh: number;
  ambientC: number;
  /** Parked on a depot supply: body and auxiliaries run from the grid, not from the vehicle's stores. */
  shorePower?: boolean;
}

const H2_NOMINAL_PRESSURE_MPA = 35;
const PHEV_SUSTAIN_SOC = 0.25;
const FCEV_TARGET_SOC = 0.6;

export class PowertrainState {
  soc: number;
  h2Kg: number;
  fuelL: number;
  readonly counters: EnergyCounters;
  sohPct: number;
  // Instantaneous values of the last step, for the sample.
  batteryKw = 0;
  fcKw = 0;
  engineShaftKw = 0;
  fuelRateLph = 0;
  engineOn = false;
  packTempC: number;
  fcTempC: number;
  coolantC: number;
  private cellSpreadV: number;

  constructor(
    readonly spec: PowertrainSpec,
    init: { soc: number; h2Frac: number; fuelFrac: number; counters: EnergyCounters; sohPct: number; ambientC: number; cellSpreadV: number },
  ) {
    this.soc = spec.batteryKwh > 0 ? init.soc : 0;
    this.h2Kg = spec.h2CapacityKg * init.h2Frac;
    this.fuelL = spec.fuelCapacityL * init.fuelFrac;
    this.counters = { ...init.counters };
    this.sohPct = init.sohPct;
    this.packTempC = init.ambientC + 3;
    this.fcTempC = init.ambientC;
    this.coolantC = init.ambientC;
    this.cellSpreadV = init.cellSpreadV;
  }

  get electric(): boolean {
    return isElectricDrive(this.spec.kind);
  }

  /** Fraction (0..1) of the store the vehicle depends on: soc for bev, hydrogen for fcev, diesel for ice/phev. */
  energyFraction(): number {
    switch (this.spec.kind) {
      case 'bev':
        return this.soc;
      case 'fcev':
        return this.h2Kg / this.spec.h2CapacityKg;
      case 'ice':
        return this.fuelL / this.spec.fuelCapacityL;
      case 'phev':
        return Math.max(this.soc, this.fuelL / this.spec.fuelCapacityL);
    }
  }

  /** Advances one step of driving, working or idling. */
  step(d: StepDemand): void {
    const h = d.dtS / 3600;
    const { tractionKw, regenKw } = splitDrive(d.wheelKw, this.electric, this.spec.maxRegenKw);
    const c = this.counters;
    c.traction_kwh += tractionKw * h;
    c.regen_kwh += regenKw * h;
    c.body_kwh += d.bodyKw * h;
    const onboardKw = d.shorePower ? 0 : d.bodyKw + (d.awake ? d.auxKw : 0);
    const busKw = tractionKw + onboardKw - regenKw;
    this.fcKw = 0;
    this.engineShaftKw = 0;
    this.fuelRateLph = 0;
    this.engineOn = false;
    let batteryKw = 0;
    switch (this.spec.kind) {
      case 'bev':
        batteryKw = busKw;
        break;
      case 'fcev': {
        // The stack follows the load and holds the buffer battery near its target; the battery covers transients
        // and takes the regenerated energy.
        if (d.awake) {
          const want = busKw + (FCEV_TARGET_SOC - this.soc) * this.spec.batteryKwh * 0.5;
          this.fcKw = this.h2Kg > 0 ? clamp(want, 0.05 * this.spec.fuelCellKw, this.spec.fuelCellKw) : 0;
          const h2 = Math.min(this.h2Kg, hydrogenRateKgph(this.fcKw, this.spec.fuelCellKw) * h);
          this.h2Kg -= h2;
          c.h2_used_kg += h2;
        }
        batteryKw = busKw - this.fcKw;
        break;
      }
      case 'ice': {
        // Everything (traction, PTO for the body, alternator for the auxiliaries) comes off the engine shaft.
        if (!d.shorePower && (d.awake || d.bodyKw > 0)) {
          this.engineOn = true;
          this.engineShaftKw = tractionKw + d.bodyKw + (d.awake ? d.auxKw / 0.6 : 0);
          this.fuelRateLph = dieselRateLph(this.engineShaftKw, this.spec.engineKw, idleLph(this.spec.engineKw));
        }
        break;
      }
      case 'phev': {
        // Charge-depleting on the battery, then the range extender holds the state of charge.
        batteryKw = busKw;
        if (d.awake && this.soc < PHEV_SUSTAIN_SOC && this.fuelL > 0) {
          this.engineOn = true;
          const genKw = clamp(busKw + (PHEV_SUSTAIN_SOC + 0.05 - this.soc) * this.spec.batteryKwh, 0, this.spec.engineKw);
          this.engineShaftKw = genKw / 0.93;
          this.fuelRateLph = dieselRateLph(this.engineShaftKw, this.spec.engineKw, idleLph(this.spec.engineKw));
          batteryKw -= genKw;
        }
        break;
      }
    }
    if (this.engineOn) {
      const litres = Math.min(this.fuelL, this.fuelRateLph * h);
      this.fuelL -= litres;
      c.fuel_used_l += litres;
      c.engine_hours += h;
    }
    this.applyBattery(batteryKw, d.dtS);
    this.thermal(d, h);
  }

  /** Charges from a depot charger for one step; returns the energy put in, kWh. */
  charge(dtS: number, ambient: number): number {
    if (this.spec.batteryKwh <= 0 || this.spec.chargerKw <= 0) return 0;
    // Constant power up to 80 %, then tapering (constant-voltage phase).
    const taper = this.soc < 0.8 ? 1 : Math.max(0.08, (1 - this.soc) / 0.2);
    const kw = Math.min(this.spec.chargerKw * taper, ((1 - this.soc) * this.spec.batteryKwh * 3600) / dtS);
    const kwh = (kw * dtS) / 3600;
    this.counters.charged_kwh += kwh;
    this.applyBattery(-kw, dtS);
    this.fcKw = 0;
    this.engineOn = false;
    this.fuelRateLph = 0;
    this.thermal({ dtS, wheelKw: 0, bodyKw: 0, auxKw: 0, awake: false, speedKmh: 0, ambientC: ambient }, dtS / 3600);
    return kwh;
  }

  /** Refuels hydrogen (≈1.5 kg/min) or diesel (≈40 l/min) for one step; true when full. */
  refuel(dtS: number): boolean {
    let full = true;
    if (this.spec.h2CapacityKg > 0) {
      this.h2Kg = Math.min(this.spec.h2CapacityKg, this.h2Kg + (1.5 * dtS) / 60);
      full &&= this.h2Kg >= this.spec.h2CapacityKg * 0.999;
    }
    if (this.spec.fuelCapacityL > 0) {
      this.fuelL = Math.min(this.spec.fuelCapacityL, this.fuelL + (40 * dtS) / 60);
      full &&= this.fuelL >= this.spec.fuelCapacityL * 0.999;
    }
    this.batteryKw = 0;
    this.fcKw = 0;
    this.engineOn = false;
    this.fuelRateLph = 0;
    return full;
  }

  private applyBattery(kw: number, dtS: number): void {
    this.batteryKw = kw;
    if (this.spec.batteryKwh <= 0) return;
    const usable = (this.spec.batteryKwh * this.sohPct) / 100;
    this.soc = clamp(this.soc - (kw * dtS) / 3600 / usable, 0, 1);
  }

  private thermal(d: StepDemand, h: number): void {
    const k = 1 - Math.exp(-h * 6); // ~10 min time constant
    const cRate = this.spec.batteryKwh > 0 ? Math.abs(this.batteryKw) / this.spec.batteryKwh : 0;
    // Liquid-cooled packs are held below ~38 °C and warmed above ~10 °C while awake or charging.
    let target = d.ambientC + 14 * cRate + 2;
    if (target > 38) target = 38 + (target - 38) * 0.15;
    if (target < 10 && (d.awake || this.batteryKw < 0)) target = 10;
    this.packTempC += (target - this.packTempC) * k;
    const fcTarget = this.fcKw > 0 ? 62 + 14 * (this.fcKw / this.spec.fuelCellKw) : d.ambientC;
    this.fcTempC += (fcTarget - this.fcTempC) * Math.min(1, k * 2);
    const coolantTarget = this.engineOn ? 84 + 8 * Math.min(1, this.engineShaftKw / Math.max(1, this.spec.engineKw)) : d.ambientC;
    this.coolantC += (coolantTarget - this.coolantC) * Math.min(1, k * 2);
  }

  batteryBlock(): Battery | undefined {
    if (this.spec.batteryKwh <= 0) return undefined;
    const ocv = lfpOpenCircuitV(this.soc);
    const nominalV = this.spec.cellsSeries * ocv;
    const current = (this.batteryKw * 1000) / nominalV;
    const cellR = 0.0008; // Ω per cell of a ~280 Ah LFP cell, scaled for the pack's parallel strings
    const cellV = ocv - current * cellR * (280 / ((this.spec.batteryKwh * 1000) / nominalV));
    const spread = this.cellSpreadV * (1 + Math.abs(current) / 400);
    return {
      soc_pct: round(this.soc * 100, 1),
      voltage_v: round(cellV * this.spec.cellsSeries, 1),
      current_a: round(current, 1),
      temp_max_c: round(this.packTempC + 1.5 + 4 * (this.cellSpreadV - 0.004), 1),
      temp_min_c: round(this.packTempC - 2, 1),
      cell_v_max: round(cellV + spread / 2, 3),
      cell_v_min: round(cellV - spread / 2, 3),
      soh_pct: round(this.sohPct, 1),
    };
  }

  hydrogenBlock(): Hydrogen | undefined {
    if (this.spec.kind !== 'fcev') return undefined;
    const frac = this.h2Kg / this.spec.h2CapacityKg;
    return {
      mass_kg: round(this.h2Kg, 2),
      pressure_mpa: round(H2_NOMINAL_PRESSURE_MPA * (0.06 + 0.94 * frac), 2),
      fc_power_kw: round(this.fcKw, 1),
      fc_temp_c: round(this.fcTempC, 1),
    };
  }

  fuelBlock(speedKmh: number, bodyKw: number): Fuel | undefined {
    if (this.spec.fuelCapacityL <= 0) return undefined;
    let rpm = 0;
    if (this.engineOn) {
      const load = this.engineShaftKw / this.spec.engineKw;
      rpm = this.spec.kind === 'phev' ? 1500 + 300 * load : Math.max(650 + 900 * load + 14 * speedKmh, bodyKw > 5 ? 1300 : 650);
    }
    return {
      level_pct: round((100 * this.fuelL) / this.spec.fuelCapacityL, 1),
      rate_lph: round(this.fuelRateLph, 2),
      engine_rpm: Math.round(Math.min(rpm, 2400)),
      coolant_c: round(this.coolantC, 1),
    };
  }

  /** Net efficiency of the fuel cell at its present output (for tests and docs). */
  fuelCellEfficiencyNow(): number {
    return fuelCellEfficiency(this.fcKw / Math.max(1, this.spec.fuelCellKw));
  }
}

/** Idle consumption of a diesel engine: ~1.8 l/h for a 150 kW truck engine, scaling with size. */
function idleLph(engineKw: number): number {
  return 0.6 + engineKw * 0.008;
}

export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

export function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
