// tenants: the unit of isolation; every vehicle and API key belongs to exactly one.
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { GeneratedTimestamp } from './column-types.js';

export interface TenantTable {
  id: string;
  name: string;
  created_at: GeneratedTimestamp;
}

export type TenantRow = Selectable<TenantTable>;
export type NewTenantRow = Insertable<TenantTable>;
export type TenantRowUpdate = Updateable<TenantTable>;

/**
 * tenant_vehicle_counts: how many vehicles each tenant has, kept by triggers on vehicles (migration
 * 2026_11_28_100000_tenant_vehicle_counts); read by the fleet-status counts instead of counting the registry.
 */
export interface TenantVehicleCountTable {
  tenant_id: string;
  vehicles: number;
}
