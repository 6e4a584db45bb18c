// The physics of the simulated vehicles: road load at the wheels (rolling resistance, aerodynamic drag, grade,
// acceleration), regenerative braking for electric drives, and the conversion of shaft or bus energy into what the
// powertrain actually consumes (battery kWh, fuel-cell hydrogen, diesel litres via BSFC).
//
// Works on steps of any length up to ~10 s: acceleration energy comes from the kinetic-energy difference between the
// step's start and end speeds, so a coarse step (backfill) keeps the same energy totals as a fine one.

export const GRAVITY = 9.81;
export const AIR_DENSITY = 1.2; // kg/m³ at ~20 °C
/** Lower heating value of hydrogen, kWh/kg. */
export const H2_LHV_KWH_PER_KG = 33.33;
/** Diesel density, g/l. */
export const DIESEL_G_PER_L = 832;

export interface ChassisSpec {
  /** Kerb mass plus typical load, kg. */
  massKg: number;
  /** Drag coefficient × frontal area, m². */
  cdA: number;
  /** Rolling-resistance coefficient (truck tyres on asphalt ≈ 0.006–0.009). */
  crr: number;
  /** Auxiliaries that run whenever the vehicle is awake: HVAC, 24 V, air compressor, steering pump, kW. */
  auxKw: number;
  /** Peak traction power, kW (caps what the road load may ask for). */
  maxDriveKw: number;
  /** Cruising speed on open roads, km/h. */
  cruiseKmh: number;
}

export interface RoadLoad {
  /** Signed power at the wheels, kW: positive drives, negative must be braked (or regenerated). */
  wheelKw: number;
  rollingKw: number;
  aeroKw: number;
  gradeKw: number;
  inertiaKw: number;
}

const ROTATIONAL_MASS_FACTOR = 1.05;

/** Road load over one step in which the speed goes from v0 to v1 (m/s) on a constant grade (rise/run). */
export function roadLoad(chassis: ChassisSpec, v0: number, v1: number, dtS: number, grade: number, extraMassKg = 0): RoadLoad {
  const m = chassis.massKg + extraMassKg;
  const v = (v0 + v1) / 2;
  if (v <= 0 && v0 <= 0 && v1 <= 0) return { wheelKw: 0, rollingKw: 0, aeroKw: 0, gradeKw: 0, inertiaKw: 0 };
  const θ = Math.atan(grade);
  const rolling = m * GRAVITY * chassis.crr * Math.cos(θ) * v;
  const aero = 0.5 * AIR_DENSITY * chassis.cdA * v * v * v;
  const climb = m * GRAVITY * Math.sin(θ) * v;
  const inertia = dtS > 0 ? (ROTATIONAL_MASS_FACTOR * 0.5 * m * (v1 * v1 - v0 * v0)) / dtS : 0;
  const wheel = Math.min((rolling + aero + climb + inertia) / 1000, chassis.maxDriveKw);
  return { wheelKw: wheel, rollingKw: rolling / 1000, aeroKw: aero / 1000, gradeKw: climb / 1000, inertiaKw: inertia / 1000 };
}

/** Electric drive (motor + inverter) efficiency, wheel ← DC bus. */
export const ELECTRIC_DRIVE_EFFICIENCY = 0.88;
/** Fraction of braking power at the wheel that reaches the battery (motor as generator, inverter). */
export const REGEN_EFFICIENCY = 0.65;
/** Gearbox + axle efficiency, wheel ← engine shaft (diesel drive). */
export const TRANSMISSION_EFFICIENCY = 0.9;

export interface DriveSplit {
  /** Energy rate into the traction drive, kW (DC bus for electric, engine shaft for diesel); ≥ 0. */
  tractionKw: number;
  /** Energy rate regenerated into the battery, kW; ≥ 0 and only for electric drives. */
  regenKw: number;
}

/** Splits signed wheel power into traction demand and regeneration; diesel drives brake by friction only. */
export function splitDrive(wheelKw: number, electric: boolean, maxRegenKw: number): DriveSplit {
  if (wheelKw >= 0) {
    return { tractionKw: wheelKw / (electric ? ELECTRIC_DRIVE_EFFICIENCY : TRANSMISSION_EFFICIENCY), regenKw: 0 };
  }
  if (!electric) return { tractionKw: 0, regenKw: 0 };
  return { tractionKw: 0, regenKw: Math.min(-wheelKw * REGEN_EFFICIENCY, maxRegenKw) };
}

/**
 * Diesel engine brake-specific fuel consumption, g/kWh, by load fraction (0..1): ~205 g/kWh near full load (~41 %
 * efficiency for a modern heavy-duty diesel), rising steeply at part load.
 */
export function bsfcGPerKwh(load: number): number {
  const l = Math.min(Math.max(load, 0.02), 1);
  return 205 + 28 / l ** 0.8 - 28;
}

/** Diesel burnt, l/h, by an engine delivering `shaftKw` of `ratedKw`, plus its idle consumption. */
export function dieselRateLph(shaftKw: number, ratedKw: number, idleLph: number): number {
  if (shaftKw <= 0) return idleLph;
  return idleLph + (shaftKw * bsfcGPerKwh(shaftKw / ratedKw)) / DIESEL_G_PER_L;
}

/**
 * PEM fuel-cell system efficiency (net electric / H2 LHV) by load fraction: ~58 % at light load falling to ~42 % at
 * rated power (the stack's polarisation losses and the air compressor), i.e. 0.05–0.07 kg H2 per kWh.
 */
export function fuelCellEfficiency(load: number): number {
  const l = Math.min(Math.max(load, 0), 1);
  return l < 0.05 ? 0.45 + l * 2.6 : 0.6 - 0.18 * l;
}

/** Hydrogen consumed, kg/h, by a fuel cell delivering `netKw` of `ratedKw`. */
export function hydrogenRateKgph(netKw: number, ratedKw: number): number {
  if (netKw <= 0) return 0;
  return netKw / (fuelCellEfficiency(netKw / ratedKw) * H2_LHV_KWH_PER_KG);
}

/** Open-circuit voltage of an LFP cell by state of charge (0..1): the flat plateau and both knees. */
export function lfpOpenCircuitV(soc: number): number {
  const s = Math.min(Math.max(soc, 0), 1);
  let v = 3.2 + 0.13 * s;
  if (s < 0.1) v -= (0.1 - s) * 3.5;
  if (s > 0.95) v += (s - 0.95) * 4;
  return v;
}

/** Outdoor temperature in Suizhou, °C: 3 °C in January, 28 °C in July, ±5 °C over the day (warmest at 15:00). */
export function ambientC(epochMs: number): number {
  const days = epochMs / 86_400_000;
  const dayOfYear = days % 365.2425;
  const localHour = ((epochMs / 3_600_000 + 8) % 24 + 24) % 24;
  return 15.5 - 12.5 * Math.cos((2 * Math.PI * (dayOfYear - 17)) / 365.2425) + 5 * Math.cos((2 * Math.PI * (localHour - 15)) / 24);
}
