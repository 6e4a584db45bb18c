// Request and answer schemas of GET /api/v1/energy.
import Type, { type Static } from 'typebox';
import { ERROR_CODE_KEYWORD } from '../common/endpoint.js';
import { Iso, TimeParam } from '../common/schemas.js';

export const ENERGY_GROUPS = ['vehicle', 'type', 'body_type', 'powertrain', 'day'] as const;

export const EnergyQuery = Type.Object(
  {
    from: Type.Optional(TimeParam('start (inclusive); default to − 24 h')),
    to: Type.Optional(TimeParam('end (exclusive); default now')),
    group_by: Type.Optional(Type.Enum([...ENERGY_GROUPS], { description: 'vehicle (default) | type | body_type | powertrain | day (UTC)', [ERROR_CODE_KEYWORD]: 'invalid_group_by' })),
  },
  { additionalProperties: false },
);
export type EnergyQuery = Static<typeof EnergyQuery>;

const n = (description: string) => Type.Number({ description });
const nn = (description: string) => Type.Union([Type.Number(), Type.Null()], { description });

export const EnergyRow = Type.Object(
  {
    key: Type.String({ description: 'the group key (also under the group_by name): vehicle id, type, body type, powertrain or YYYY-MM-DD' }),
    vehicles: Type.Integer({ description: 'vehicles in the group' }),
    distance_km: n('odometer increase'),
    traction_kwh: n('traction energy'),
    body_kwh: n('upper-body energy'),
    regen_kwh: n('recuperated energy'),
    charged_kwh: n('energy charged from the grid'),
    h2_kg: n('hydrogen used'),
    fuel_l: n('fuel used'),
    engine_hours: n('engine running hours'),
    body_hours: n('upper-body running hours'),
    energy_kwh: n('traction_kwh + body_kwh'),
    kwh_per_100km: nn('energy_kwh per 100 km'),
    h2_kg_per_100km: nn('hydrogen per 100 km'),
    fuel_l_per_100km: nn('fuel per 100 km'),
    body_share: nn('body_kwh / energy_kwh (0..1)'),
    body_kwh_per_hour: nn('body_kwh / body_hours: mean upper-body power while running, kW'),
    kwh_equivalent: n('charged_kwh + h2_kg × H2 LHV + fuel_l × diesel LHV'),
    kwh_equivalent_per_100km: nn('kwh_equivalent per 100 km'),
    co2_kg: n('charged_kwh × grid factor + fuel_l × diesel factor + h2_kg × hydrogen factor'),
    co2_kg_per_100km: nn('co2_kg per 100 km'),
  },
  { additionalProperties: true },
);

export const EnergyAnswer = Type.Object({
  from: Iso,
  to: Iso,
  group_by: Type.String(),
  conversion_factors: Type.Object({
    diesel_kwh_per_l: Type.Number(),
    h2_kwh_per_kg: Type.Number(),
    grid_kg_co2_per_kwh: Type.Number(),
    diesel_kg_co2_per_l: Type.Number(),
    h2_kg_co2_per_kg: Type.Number(),
  }),
  items: Type.Array(EnergyRow),
});
