// The vehicle registry, and the credential lookup the broker authenticates against.
import { Inject, Injectable } from '@nestjs/common';
import { type Kysely, sql } from 'kysely';
import { DATABASE, type DB } from '../database.js';
import type { BodyType, Powertrain, VehicleRow } from '../tables/vehicle.table.js';

/** A vehicle as the rest of the code sees it. The secret digest is deliberately not part of it. */
export interface Vehicle {
  id: string;
  tenantId: string;
  type: string;
  bodyType: BodyType;
  powertrain: Powertrain;
  vin: string | null;
  model: string | null;
  batteryKwh: number | null;
  h2CapacityKg: number | null;
  fuelCapacityL: number | null;
  reportIntervalS: number;
  credentialsRotatedAt: Date | null;
  createdAt: Date;
}

export interface NewVehicle {
  id: string;
  tenantId: string;
  type: string;
  bodyType: BodyType;
  powertrain: Powertrain;
  vin?: string | null;
  model?: string | null;
  batteryKwh?: number | null;
  h2CapacityKg?: number | null;
  fuelCapacityL?: number | null;
  reportIntervalS?: number;
  /** sha256 of the vehicle's secret (32 bytes). */
  secretDigest?: Buffer | null;
}

export interface VehicleCredential {
  tenantId: string;
  /** null when the vehicle has no secret yet: it cannot log in. */
  secretDigest: Buffer | null;
}

const COLUMNS = [
  'id',
  'tenant_id',
  'type',
  'body_type',
  'powertrain',
  'vin',
  'model',
  'battery_kwh',
  'h2_capacity_kg',
  'fuel_capacity_l',
  'report_interval_s',
  'credentials_rotated_at',
  'created_at',
] as const;

export function toVehicle(row: Pick<VehicleRow, (typeof COLUMNS)[number]>): Vehicle {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    type: row.type,
    bodyType: row.body_type,
    powertrain: row.powertrain,
    vin: row.vin,
    model: row.model,
    batteryKwh: row.battery_kwh,
    h2CapacityKg: row.h2_capacity_kg,
    fuelCapacityL: row.fuel_capacity_l,
    reportIntervalS: row.report_interval_s,
    credentialsRotatedAt: row.credentials_rotated_at,
    createdAt: row.created_at,
  };
}

@Injectable()
export class VehicleRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /** Inserts the vehicle; a duplicate id raises the unique violation (23505) for the caller to map to 409. */
  /**
   * Registers a vehicle. Ids are MQTT usernames shared with service accounts, and the broker checks service accounts
   * first: an id a service account holds fails like one a vehicle holds (unique violation, 23505), or the vehicle's
   * credentials would never log in.
   */
  async create(v: NewVehicle): Promise<Vehicle> {
    const account = await this.db.selectFrom('service_accounts').select('id').where('id', '=', v.id).executeTakeFirst();
    if (account) throw Object.assign(new Error(`id ${v.id} is taken by a service account`), { code: '23505' });
    const row = await this.db
      .insertInto('vehicles')
      .values({
        id: v.id,
        tenant_id: v.tenantId,
        type: v.type,
        body_type: v.bodyType,
        powertrain: v.powertrain,
        vin: v.vin ?? null,
        model: v.model ?? null,
        battery_kwh: v.batteryKwh ?? null,
        h2_capacity_kg: v.h2CapacityKg ?? null,
        fuel_capacity_l: v.fuelCapacityL ?? null,
        ...(v.reportIntervalS !== undefined ? { report_interval_s: v.reportIntervalS } : {}),
        secret_digest: v.secretDigest ?? null,
        credentials_rotated_at: v.secretDigest ? sql<Date>`now()` : null,
      })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    return toVehicle(row);
  }

  /** Any tenant's vehicle: callers serving a tenant must compare tenantId (or use listByTenant). */
  async findById(id: string): Promise<Vehicle | undefined> {
    const row = await this.db.selectFrom('vehicles').select(COLUMNS).where('id', '=', id).executeTakeFirst();
    return row ? toVehicle(row) : undefined;
  }

  async findCredential(id: string): Promise<VehicleCredential | undefined> {
    const row = await this.db
      .selectFrom('vehicles')
      .select(['tenant_id', 'secret_digest'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row ? { tenantId: row.tenant_id, secretDigest: row.secret_digest } : undefined;
  }

  /** Replaces the secret digest; false when the vehicle does not exist. */
  async rotateSecret(id: string, secretDigest: Buffer): Promise<boolean> {
    const result = await this.db
      .updateTable('vehicles')
      .set({ secret_digest: secretDigest, credentials_rotated_at: sql<Date>`now()` })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async listByTenant(tenantId: string): Promise<Vehicle[]> {
    const rows = await this.db.selectFrom('vehicles').select(COLUMNS).where('tenant_id', '=', tenantId).orderBy('id').execute();
    return rows.map(toVehicle);
  }
}
