// Readiness probe of the database.
import { Inject, Injectable } from '@nestjs/common';
import { type Kysely, sql } from 'kysely';
import { DATABASE, type DB } from '../database.js';

@Injectable()
export class HealthRepository {
  constructor(@Inject(DATABASE) private readonly db: Kysely<DB>) {}

  /** Resolves when the database answers a trivial query; rejects with the driver's error otherwise. */
  async ping(): Promise<void> {
    await sql`SELECT 1`.execute(this.db);
  }
}
