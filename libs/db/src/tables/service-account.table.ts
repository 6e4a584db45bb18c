// service_accounts: MQTT logins of ingestion workers (they may subscribe to fleet/+/...).
import type { Insertable, Selectable, Updateable } from 'kysely';
import type { Bytea, GeneratedTimestamp, Timestamp } from './column-types.js';

export interface ServiceAccountTable {
  id: string;
  /** sha256 of a high-entropy random secret. */
  secret_digest: Bytea;
  created_at: GeneratedTimestamp;
  disabled_at: Timestamp | null;
}

export type ServiceAccountRow = Selectable<ServiceAccountTable>;
export type NewServiceAccountRow = Insertable<ServiceAccountTable>;
export type ServiceAccountRowUpdate = Updateable<ServiceAccountTable>;
