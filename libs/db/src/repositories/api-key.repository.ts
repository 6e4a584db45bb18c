// API keys of the HTTP API, stored as SHA-256 digests; looking one up is by digest.
import { Inject, Injectable } from '@nestjs/common';
import { type Kysely, sql } from 'kysely';
import { DATABASE, type DB } from '../database.js';
import type { ApiKeyRole, ApiKeyRow } from '../tables/api-key.table.js';

export interface ApiKey {
  id: string;
  tenantId: string;
  role: ApiKeyRole;
  prefix: string;
  name: string;
  createdAt: Date;
  revokedAt: Date | null;
}

export interface NewApiKey {
  tenantId: string;
  role: ApiKeyRole;
  /** sha256 of the key (32 bytes). */
  digest: Buffer;
  prefix: string;
  name?: string;
}

const COLUMNS = ['id', 'tenant_id', 'role', 'prefix', 'name', 'created_at', 'revoked_at'] as const;

export function toApiKey(row: Pick<ApiKeyRow, (typeof COLUMNS)[number]>): ApiKey {
  return {
    id: row.id,
    tenantId: row.tenant_id,
    role: row.role,
    prefix: row.prefix,
    name: row.name,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
  };
}

@Injectable()
export class ApiKeyRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  async create(key: NewApiKey): Promise<ApiKey> {
    const row = await this.db
      .insertInto('api_keys')
      .values({ tenant_id: key.tenantId, role: key.role, digest: key.digest, prefix: key.prefix, name: key.name ?? '' })
      .returning(COLUMNS)
      .executeTakeFirstOrThrow();
    return toApiKey(row);
  }

  /** The key with this digest, unless revoked. */
  async findByDigest(digest: Buffer): Promise<ApiKey | undefined> {
    const row = await this.db
      .selectFrom('api_keys')
      .select(COLUMNS)
      .where('digest', '=', digest)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return row ? toApiKey(row) : undefined;
  }

  /** Revokes the key (scoped to the tenant when given); false if there was no such active key. */
  async revoke(id: string, tenantId?: string): Promise<boolean> {
    let q = this.db.updateTable('api_keys').set({ revoked_at: sql<Date>`now()` }).where('id', '=', id).where('revoked_at', 'is', null);
    if (tenantId !== undefined) q = q.where('tenant_id', '=', tenantId);
    const result = await q.executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  /** Every key of the tenant, revoked ones included (they show revokedAt), newest first. */
  async listByTenant(tenantId: string): Promise<ApiKey[]> {
    const rows = await this.db
      .selectFrom('api_keys')
      .select(COLUMNS)
      .where('tenant_id', '=', tenantId)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(toApiKey);
  }
}
