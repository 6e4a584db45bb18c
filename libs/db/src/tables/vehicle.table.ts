// vehicles: the registry; the id is also the vehicle's MQTT username and client id, so it is global, not per tenant.
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { Bytea, GeneratedTimestamp, Timestamp } from './column-types.js';

export const POWERTRAINS = ['bev', 'fcev', 'ice', 'phev'] as const;
export type Powertrain = (typeof POWERTRAINS)[number];

export const BODY_TYPES = ['sweeper', 'compactor', 'sprinkler', 'reefer', 'pump', 'ladder', 'medical', 'tanker', 'none'] as const;
export type BodyType = (typeof BODY_TYPES)[number];

/** Vehicle classes known today; the column is plain text so a new class needs no migration. */
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

/** SPEC §3: ids end up in MQTT topics, so the database refuses anything else too. */
export const VEHICLE_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$';

export interface VehicleTable {
  id: string;
  tenant_id: string;
  type: string;
  body_type: BodyType;
  powertrain: Powertrain;
  vin: string | null;
  model: string | null;
  battery_kwh: number | null;
  h2_capacity_kg: number | null;
  fuel_capacity_l: number | null;
  report_interval_s: Generated<number>; // default 10
  /** sha256 of a 256-bit random secret: high entropy, so a fast hash (not bcrypt/scrypt) is right. */
  secret_digest: Bytea | null;
  credentials_rotated_at: Timestamp | null;
  created_at: GeneratedTimestamp;
}

export type VehicleRow = Selectable<VehicleTable>;
export type NewVehicleRow = Insertable<VehicleTable>;
export type VehicleRowUpdate = Updateable<VehicleTable>;
