// Creating, revoking and listing API keys — shared by the admin CLI and the launchers (demo keys from
// FLEET_DEMO_API_KEY / FLEET_ADMIN_API_KEY). The key itself is only ever returned at creation.
import { type ApiKey, ApiKeyRepository, type ApiKeyRole, type DB, TenantRepository } from '@fleet/db';
import type { Kysely } from 'kysely';
import { digestOf, generateApiKey, keyPrefix } from './api-key.js';

export async function createApiKey(repo: ApiKeyRepository, tenantId: string, role: ApiKeyRole, name = ''): Promise<{ key: string; record: ApiKey }> {
  const key = generateApiKey();
  const record = await repo.create({ tenantId, role, digest: digestOf(key), prefix: keyPrefix(key), name });
  return { key, record };
}

/**
 * Makes sure a given key (e.g. FLEET_DEMO_API_KEY) exists with this tenant and role; idempotent across restarts.
 * Returns false when the key already exists (it is left as it is, even if revoked: a revoked key stays revoked).
 */
export async function ensureApiKey(repo: ApiKeyRepository, tenantId: string, role: ApiKeyRole, key: string, name: string): Promise<boolean> {
  const digest = digestOf(key);
  try {
    await repo.create({ tenantId, role, digest, prefix: keyPrefix(key), name });
    return true;
  } catch (error) {
    if ((error as { code?: string }).code === '23505') return false; // digest already stored
    throw error;
  }
}

export const DEMO_TENANT = { id: 'demo', name: 'Suizhou demo fleet' } as const;

/** The demo tenant and the keys given for it (FLEET_DEMO_API_KEY / FLEET_ADMIN_API_KEY), idempotently. */
export async function ensureDemoTenant(db: Kysely<DB>, keys: { operatorKey?: string | undefined; adminKey?: string | undefined }): Promise<void> {
  await new TenantRepository(db).upsert(DEMO_TENANT);
  const repo = new ApiKeyRepository(db);
  if (keys.operatorKey) await ensureApiKey(repo, DEMO_TENANT.id, 'operator', keys.operatorKey, 'demo operator (FLEET_DEMO_API_KEY)');
  if (keys.adminKey) await ensureApiKey(repo, DEMO_TENANT.id, 'admin', keys.adminKey, 'demo admin (FLEET_ADMIN_API_KEY)');
}
