// api_keys: operator/admin keys of the HTTP API, stored only as a SHA-256 digest.
import type { Generated, Insertable, Selectable, Updateable } from 'kysely';
import type { Bytea, GeneratedTimestamp, Timestamp } from './column-types.js';

export const API_KEY_ROLES = ['operator', 'admin'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

export interface ApiKeyTable {
  id: Generated<string>; // uuid, gen_random_uuid()
  tenant_id: string;
  role: ApiKeyRole;
  /** sha256 of the whole key: keys are high-entropy random strings, so a fast hash is the right tool. */
  digest: Bytea;
  /** The first characters of the key, so an operator can recognise a key in a list. */
  prefix: string;
  name: string;
  created_at: GeneratedTimestamp;
  revoked_at: Timestamp | null;
}

export type ApiKeyRow = Selectable<ApiKeyTable>;
export type NewApiKeyRow = Insertable<ApiKeyTable>;
export type ApiKeyRowUpdate = Updateable<ApiKeyTable>;
