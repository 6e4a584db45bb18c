// Tenants: the unit of isolation.
import { Inject, Injectable } from '@nestjs/common';
import type { Kysely } from 'kysely';
import { DATABASE, type DB } from '../database.js';
import type { TenantRow } from '../tables/tenant.table.js';

export interface Tenant {
  id: string;
  name: string;
  createdAt: Date;
}

export function toTenant(row: TenantRow): Tenant {
  return { id: row.id, name: row.name, createdAt: row.created_at };
}

@Injectable()
export class TenantRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /** Creates the tenant, or renames it if it exists (idempotent: seeding runs at every start). */
  async upsert(tenant: { id: string; name: string }): Promise<Tenant> {
    const row = await this.db
      .insertInto('tenants')
      .values({ id: tenant.id, name: tenant.name })
      .onConflict((oc) => oc.column('id').doUpdateSet({ name: tenant.name }))
      .returningAll()
      .executeTakeFirstOrThrow();
    return toTenant(row);
  }

  async find(id: string): Promise<Tenant | undefined> {
    const row = await this.db.selectFrom('tenants').selectAll().where('id', '=', id).executeTakeFirst();
    return row ? toTenant(row) : undefined;
  }
}
