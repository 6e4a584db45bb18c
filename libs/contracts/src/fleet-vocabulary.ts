// The registry's vocabulary (SPEC §1, §5): vehicle classes and powertrains, shared by the database schema, the API's
// provisioning schema and the simulators, so the three can never drift apart. Body types live beside the telemetry
// schema, which validates `body.type` against them.

export const POWERTRAINS = ['bev', 'fcev', 'ice', 'phev'] as const;
export type Powertrain = (typeof POWERTRAINS)[number];

/** Vehicle classes known today; the database column is plain text, so a new class needs no migration. */
export const VEHICLE_TYPES = [
  'road_sweeper',
  'garbage_compactor',
  'sprinkler',
  'delivery_van',
  'refrigerated_truck',
  'fire_engine',
  'ambulance',
  'aerial_ladder',
  'sightseeing_bus',
  'hazmat_tanker',
] as const;
export type VehicleType = (typeof VEHICLE_TYPES)[number];
