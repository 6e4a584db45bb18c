// Service accounts: MQTT credentials of ingestion workers.
import { Inject, Injectable } from '@nestjs/common';
import { type Kysely, sql } from 'kysely';
import { DATABASE, type DB } from '../database.js';
import type { ServiceAccountRow } from '../tables/service-account.table.js';

export interface ServiceAccount {
  id: string;
  createdAt: Date;
  disabledAt: Date | null;
}

export function toServiceAccount(row: Pick<ServiceAccountRow, 'id' | 'created_at' | 'disabled_at'>): ServiceAccount {
  return { id: row.id, createdAt: row.created_at, disabledAt: row.disabled_at };
}

@Injectable()
export class ServiceAccountRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /** Creates the account or replaces its secret (and re-enables it): provisioning is idempotent. */
  async upsert(id: string, secretDigest: Buffer): Promise<ServiceAccount> {
    const row = await this.db
      .insertInto('service_accounts')
      .values({ id, secret_digest: secretDigest })
      .onConflict((oc) => oc.column('id').doUpdateSet({ secret_digest: secretDigest, disabled_at: null }))
      .returning(['id', 'created_at', 'disabled_at'])
      .executeTakeFirstOrThrow();
    return toServiceAccount(row);
  }

  /** Creates the account; false (and nothing changed) when the id is taken, disabled or not, or is a vehicle's. */
  async create(id: string, secretDigest: Buffer): Promise<boolean> {
    // Vehicle ids are MQTT usernames too, and the broker checks service accounts first: the vehicle would be locked out.
    const vehicle = await this.db.selectFrom('vehicles').select('id').where('id', '=', id).executeTakeFirst();
    if (vehicle) return false;
    const row = await this.db
      .insertInto('service_accounts')
      .values({ id, secret_digest: secretDigest })
      .onConflict((oc) => oc.column('id').doNothing())
      .returning('id')
      .executeTakeFirst();
    return row !== undefined;
  }

  /**
   * The configured account of a deployment (idempotent, run on every start): created if missing, its secret set if
   * it differs — but a disabled account stays disabled ('disabled'): disabling is an operator's decision that a
   * redeploy must not undo.
   */
  async ensure(id: string, secretDigest: Buffer): Promise<'ready' | 'disabled'> {
    const row = await this.db
      .insertInto('service_accounts')
      .values({ id, secret_digest: secretDigest })
      .onConflict((oc) => oc.column('id').doUpdateSet({ secret_digest: secretDigest }).where('service_accounts.disabled_at', 'is', null))
      .returning('id')
      .executeTakeFirst();
    return row !== undefined ? 'ready' : 'disabled';
  }

  /** The secret digest to check a login against; undefined when unknown or disabled. */
  async findCredential(id: string): Promise<{ secretDigest: Buffer } | undefined> {
    const row = await this.db
      .selectFrom('service_accounts')
      .select('secret_digest')
      .where('id', '=', id)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    return row ? { secretDigest: row.secret_digest } : undefined;
  }

  async disable(id: string): Promise<boolean> {
    const result = await this.db
      .updateTable('service_accounts')
      .set({ disabled_at: sql<Date>`now()` })
      .where('id', '=', id)
      .where('disabled_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }
}
