// vehicles: the registry; the id is also the vehicle's MQTT username and client id, so it is global, not per tenant.
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { Bytea, GeneratedTimestamp, Timestamp } from './column-types.js';

// The vocabulary is the contracts' (one list for schema, API and simulators); re-exported for the table's users.
export { BODY_TYPES, type BodyType, POWERTRAINS, type Powertrain, VEHICLE_TYPES, type VehicleType } from '@fleet/contracts';
import type { BodyType, Powertrain } from '@fleet/contracts';

/** SPEC §3: ids end up in MQTT topics, so the database refuses anything else too (the migration's CHECK). */
export { VEHICLE_ID_PATTERN } from '@fleet/contracts';

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
