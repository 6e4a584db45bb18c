import { describe, expect, it } from 'vitest';
import { CachedCredentialStore, secretDigest, secretMatches } from './credential-cache.js';

describe('CachedCredentialStore', () => {
  it('caches hits and misses for their TTLs and forgets an id on invalidate', async () => {
    let now = 0;
    let calls = 0;
    const digest = secretDigest('s');
    const store = new CachedCredentialStore(
      {
        findVehicle: async (id) => (calls++, id === 'V1' ? { tenantId: 't', secretDigest: digest } : undefined),
        findServiceAccount: async () => undefined,
      },
      1_000,
      100,
      10,
      () => now,
    );
    await store.findVehicle('V1');
    await store.findVehicle('V1');
    await store.findVehicle('nope');
    await store.findVehicle('nope');
    expect(calls).toBe(2);
    now = 200; // the miss expired, the hit did not
    await store.findVehicle('nope');
    await store.findVehicle('V1');
    expect(calls).toBe(3);
    store.invalidate('V1');
    await store.findVehicle('V1');
    expect(calls).toBe(4);
  });

  it('compares secrets by digest', () => {
    expect(secretMatches(Buffer.from('s'), secretDigest('s'))).toBe(true);
    expect(secretMatches(Buffer.from('t'), secretDigest('s'))).toBe(false);
    expect(secretMatches(Buffer.from('s'), Buffer.alloc(3))).toBe(false);
  });
});
