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
