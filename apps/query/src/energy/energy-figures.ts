// Derived energy figures of GET /api/v1/energy, from the summed counter increases of a group.
//
// Definitions (the README repeats them):
// - energy_kwh          = traction_kwh + body_kwh: electrical energy used on board, as the vehicle's counters report
//                         it (regen_kwh is reported alongside and not subtracted).
// - kwh_per_100km       = energy_kwh / distance_km × 100 (null without distance); likewise h2_kg_per_100km,
//                         fuel_l_per_100km, kwh_equivalent_per_100km, co2_kg_per_100km.
// - body_share          = body_kwh / energy_kwh (0..1; null when energy_kwh is 0).
// - body_kwh_per_hour   = body_kwh / body_hours: the upper body's mean power while it runs (null without hours).
// - kwh_equivalent      = energy supplied to the vehicle, comparable across powertrains: grid electricity charged
//                         (charged_kwh) + hydrogen used × its LHV + diesel used × its LHV. On-board electricity
//                         that came from the fuel cell or the engine is not added again.
// - co2_kg              = charged_kwh × grid factor + fuel_l × diesel factor + h2_kg × hydrogen factor
//                         (tank-to-wheel for diesel, well-to-tank for grid electricity and hydrogen: the emission
//                         happens at the power plant / the reformer).
// Conversion factors: ConversionFactors in query.options.ts, with the source of every default.
import type { ConversionFactors } from '../query.options.js';

export interface EnergySums {
  distance_km: number;
  traction_kwh: number;
  body_kwh: number;
  regen_kwh: number;
  charged_kwh: number;
  h2_kg: number;
  fuel_l: number;
  engine_hours: number;
  body_hours: number;
}

export interface EnergyFigures extends EnergySums {
  energy_kwh: number;
  kwh_per_100km: number | null;
  h2_kg_per_100km: number | null;
  fuel_l_per_100km: number | null;
  body_share: number | null;
  body_kwh_per_hour: number | null;
  kwh_equivalent: number;
  kwh_equivalent_per_100km: number | null;
  co2_kg: number;
  co2_kg_per_100km: number | null;
}

/** Rounds away float noise of summed doubles (1e-9 of a kWh is far below any counter's resolution). */
export function tidy(v: number): number {
  return Math.round(v * 1e9) / 1e9;
}

function ratio(numerator: number, denominator: number, scale = 1): number | null {
  return denominator > 0 ? tidy((numerator / denominator) * scale) : null;
}

export function energyFigures(s: EnergySums, f: ConversionFactors): EnergyFigures {
  const energy = s.traction_kwh + s.body_kwh;
  const kwhEq = s.charged_kwh + s.h2_kg * f.h2KwhPerKg + s.fuel_l * f.dieselKwhPerL;
  const co2 = s.charged_kwh * f.gridKgCo2PerKwh + s.h2_kg * f.h2KgCo2PerKg + s.fuel_l * f.dieselKgCo2PerL;
  return {
    distance_km: tidy(s.distance_km),
    traction_kwh: tidy(s.traction_kwh),
    body_kwh: tidy(s.body_kwh),
    regen_kwh: tidy(s.regen_kwh),
    charged_kwh: tidy(s.charged_kwh),
    h2_kg: tidy(s.h2_kg),
    fuel_l: tidy(s.fuel_l),
    engine_hours: tidy(s.engine_hours),
    body_hours: tidy(s.body_hours),
    energy_kwh: tidy(energy),
    kwh_per_100km: ratio(energy, s.distance_km, 100),
    h2_kg_per_100km: ratio(s.h2_kg, s.distance_km, 100),
    fuel_l_per_100km: ratio(s.fuel_l, s.distance_km, 100),
    body_share: ratio(s.body_kwh, energy),
    body_kwh_per_hour: ratio(s.body_kwh, s.body_hours),
    kwh_equivalent: tidy(kwhEq),
    kwh_equivalent_per_100km: ratio(kwhEq, s.distance_km, 100),
    co2_kg: tidy(co2),
    co2_kg_per_100km: ratio(co2, s.distance_km, 100),
  };
}
