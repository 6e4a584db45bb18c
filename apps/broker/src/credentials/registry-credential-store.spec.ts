import { describe, expect, it } from 'vitest';
import { RegistryCredentialStore } from './registry-credential-store.js';

describe('RegistryCredentialStore', () => {
  const digest = Buffer.alloc(32, 7);
  const store = new RegistryCredentialStore(
    {
      findCredential: async (id: string) =>
        id === 'V1' ? { tenantId: 't1', secretDigest: digest } : id === 'V-NO-SECRET' ? { tenantId: 't1', secretDigest: null } : undefined,
    },
    { findCredential: async (id: string) => (id === 'ingest' ? { secretDigest: digest } : undefined) },
  );

  it('answers a vehicle with its tenant and digest', async () => {
    expect(await store.findVehicle('V1')).toEqual({ tenantId: 't1', secretDigest: digest });
  });

  it('treats a vehicle without a secret like an unknown one', async () => {
    expect(await store.findVehicle('V-NO-SECRET')).toBeUndefined();
    expect(await store.findVehicle('NOPE')).toBeUndefined();
  });

  it('answers service accounts', async () => {
    expect(await store.findServiceAccount('ingest')).toEqual({ secretDigest: digest });
    expect(await store.findServiceAccount('V1')).toBeUndefined();
  });
});
