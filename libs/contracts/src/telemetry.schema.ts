// The v1 telemetry sample of SPEC §3: one TypeBox schema that is the TS type, the validator and the JSON Schema.
//
// Strictness: every object is `additionalProperties: false`. We would rather dead-letter a sample with a misspelt or
// unexpected field (reason SCHEMA, raw bytes kept) than silently store half of it; firmware that adds a field needs a
// contract change (v2 or an optional v1 field here), not a quiet drop. Free-form data goes in body.signals only.
import Type, { type Static } from 'typebox';
import { NonNegative, Range, Seq, SignalMap, Timestamp, Version } from './common.schema.js';

export const VEHICLE_STATES = ['off', 'idle', 'driving', 'working', 'charging', 'refuelling'] as const;
export type VehicleState = (typeof VEHICLE_STATES)[number];

export const BODY_TYPES = ['sweeper', 'compactor', 'sprinkler', 'reefer', 'pump', 'ladder', 'medical', 'tanker', 'none'] as const;
export type BodyType = (typeof BODY_TYPES)[number];

/**
 * OBD-II (`P0A80`), J1939 (`SPN520-FMI3`) or OEM trouble code (`BMS_ERR_12`): upper-case letters, digits, `-` and
 * `_`, 2–64 characters. The same codes arrive as `dtc` events (event.schema.ts), and both feed one active DTC set.
 */
export const DTC_PATTERN = '^[A-Z0-9][A-Z0-9_-]{1,63}$';
export const MAX_DTCS = 64;

const strict = { additionalProperties: false } as const;

// Temperatures of packs, fuel cells and coolant: −60 °C (arctic cold soak) .. 250 °C (thermal runaway still reportable).
const Temp = (description: string) => Range(-60, 250, `${description}, °C`);

export const PositionSchema = Type.Object(
  {
    lat: Range(-90, 90, 'WGS-84 latitude, degrees'),
    lon: Range(-180, 180, 'WGS-84 longitude, degrees'),
    alt_m: Type.Optional(Range(-500, 9000, 'altitude, m')),
    heading_deg: Type.Optional(Range(0, 360, 'heading, degrees clockwise from north')),
    speed_kmh: Type.Optional(Range(0, 400, 'ground speed, km/h')),
  },
  { ...strict, description: 'GNSS fix; omit the block when there is no fix' },
);

export const BatterySchema = Type.Object(
  {
    soc_pct: Type.Optional(Range(0, 100, 'state of charge, %')),
    voltage_v: Type.Optional(Range(0, 2000, 'pack voltage, V')),
    current_a: Type.Optional(Range(-3000, 3000, 'pack current, A, positive when discharging')),
    temp_max_c: Type.Optional(Temp('hottest cell')),
    temp_min_c: Type.Optional(Temp('coldest cell')),
    cell_v_max: Type.Optional(Range(0, 10, 'highest cell voltage, V')),
    cell_v_min: Type.Optional(Range(0, 10, 'lowest cell voltage, V')),
    soh_pct: Type.Optional(Range(0, 100, 'state of health, %')),
  },
  { ...strict, description: 'traction battery (bev, phev; buffer battery of fcev)' },
);

export const HydrogenSchema = Type.Object(
  {
    mass_kg: Type.Optional(Range(0, 1000, 'hydrogen on board, kg')),
    pressure_mpa: Type.Optional(Range(0, 100, 'tank pressure, MPa')),
    fc_power_kw: Type.Optional(Range(0, 1000, 'fuel-cell output, kW')),
    fc_temp_c: Type.Optional(Temp('fuel-cell stack')),
  },
  { ...strict, description: 'hydrogen system (fcev)' },
);

export const FuelSchema = Type.Object(
  {
    level_pct: Type.Optional(Range(0, 100, 'tank level, %')),
    rate_lph: Type.Optional(Range(0, 1000, 'fuel rate, l/h')),
    engine_rpm: Type.Optional(Range(0, 10000, 'engine speed, rpm')),
    coolant_c: Type.Optional(Temp('engine coolant')),
  },
  { ...strict, description: 'combustion engine (ice, phev)' },
);

export const EnergySchema = Type.Object(
  {
    traction_kwh: Type.Optional(NonNegative('cumulative traction energy, kWh')),
    body_kwh: Type.Optional(NonNegative('cumulative upper-body energy, kWh')),
    regen_kwh: Type.Optional(NonNegative('cumulative regenerated energy, kWh')),
    charged_kwh: Type.Optional(NonNegative('cumulative energy charged from the grid, kWh')),
    h2_used_kg: Type.Optional(NonNegative('cumulative hydrogen used, kg')),
    fuel_used_l: Type.Optional(NonNegative('cumulative fuel used, l')),
    engine_hours: Type.Optional(NonNegative('cumulative engine hours, h')),
  },
  { ...strict, description: 'cumulative counters since commissioning (they only grow, except on a counter reset)' },
);

export const BodySchema = Type.Object(
  {
    type: Type.Enum(BODY_TYPES, { description: 'upper-body type' }),
    active: Type.Optional(Type.Boolean({ description: 'upper body working' })),
    // Signed: some bodies feed energy back (a ladder or crane lowering under load).
    power_kw: Type.Optional(Range(-1000, 1000, 'upper-body power draw, kW')),
    hours: Type.Optional(NonNegative('cumulative upper-body operating hours, h')),
    signals: Type.Optional(SignalMap('body-specific signals (brush_rpm, water_l, …): number | string | boolean, ≤ 64 keys')),
  },
  { ...strict, description: 'upper body ("上装")' },
);

export const TelemetrySampleSchema = Type.Object(
  {
    v: Type.Optional(Version),
    ts: Timestamp,
    seq: Seq,
    position: Type.Optional(PositionSchema),
    odometer_km: Type.Optional(NonNegative('odometer, km')),
    state: Type.Optional(Type.Enum(VEHICLE_STATES, { description: 'vehicle state; working = upper body active' })),
    battery: Type.Optional(BatterySchema),
    hydrogen: Type.Optional(HydrogenSchema),
    fuel: Type.Optional(FuelSchema),
    energy: Type.Optional(EnergySchema),
    body: Type.Optional(BodySchema),
    dtc: Type.Optional(
      Type.Array(Type.String({ pattern: DTC_PATTERN }), {
        maxItems: MAX_DTCS,
        description: 'diagnostic trouble codes active at ts',
      }),
    ),
  },
  { ...strict, $id: 'TelemetrySampleV1', title: 'Telemetry sample v1', description: 'SPEC §3 telemetry sample' },
);

export type TelemetrySample = Static<typeof TelemetrySampleSchema>;
export type Position = Static<typeof PositionSchema>;
export type Battery = Static<typeof BatterySchema>;
export type Hydrogen = Static<typeof HydrogenSchema>;
export type Fuel = Static<typeof FuelSchema>;
export type Energy = Static<typeof EnergySchema>;
export type Body = Static<typeof BodySchema>;

/** JSON Schema (draft-07 and 2020-12 alike: no draft-specific keywords) of a single telemetry sample, for OpenAPI. */
export const telemetrySampleJsonSchema: Readonly<Record<string, unknown>> = TelemetrySampleSchema as unknown as Record<string, unknown>;
