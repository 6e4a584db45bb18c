import { describe, expect, it } from 'vitest';
import type { ApiKey, ApiKeyRepository } from '@fleet/db';
import { resolveQueryOptions } from '../query.options.js';
import { digestOf } from './api-key.js';
import { ApiKeyCache } from './api-key-cache.js';

const KEY: ApiKey = { id: 'k1', tenantId: 'acme', role: 'operator', prefix: 'sfk_abcdefgh', name: '', createdAt: new Date(0), revokedAt: null };

/** A repository holding one active key (until revoked), counting lookups. */
function fakeRepository(token: string) {
  const state = { lookups: 0, revoked: false };
  const repo = {
    findByDigest: async (digest: Buffer) => {
      state.lookups += 1;
      return !state.revoked && digest.equals(digestOf(token)) ? KEY : undefined;
    },
  } as unknown as ApiKeyRepository;
  return { repo, state };
}

describe('ApiKeyCache', () => {
  const token = 'sfk_0123456789abcdef0123456789abcdef';

  it('reads a found key once per apiKeyCacheS, then again (so a revocation shows after at most that long)', async () => {
    const { repo, state } = fakeRepository(token);
    let now = 1_000_000;
    const cache = new ApiKeyCache(repo, resolveQueryOptions({ apiKeyCacheS: 5 }), () => now);
    expect(await cache.find(token)).toBe(KEY);
    now += 4_999;
    expect(await cache.find(token)).toBe(KEY);
    expect(state.lookups).toBe(1);
    state.revoked = true;
    now += 1;
    expect(await cache.find(token)).toBeUndefined();
    expect(state.lookups).toBe(2);
  });

  it('never caches an unknown key, and looks every key up when apiKeyCacheS is 0', async () => {
    const { repo, state } = fakeRepository(token);
    const cache = new ApiKeyCache(repo, resolveQueryOptions({ apiKeyCacheS: 5 }));
    expect(await cache.find('sfk_unknown-unknown-unknown')).toBeUndefined();
    expect(await cache.find('sfk_unknown-unknown-unknown')).toBeUndefined();
    expect(state.lookups).toBe(2);
    const uncached = new ApiKeyCache(repo, resolveQueryOptions({ apiKeyCacheS: 0 }));
    await uncached.find(token);
    await uncached.find(token);
    expect(state.lookups).toBe(4);
  });
});
