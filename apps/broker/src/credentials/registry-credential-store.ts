// CredentialStore over the registry (@fleet/db): vehicles.secret_digest and service_accounts.secret_digest, both
// SHA-256 of the secret. CachedCredentialStore (credential-cache.ts) sits in front of it, so this is hit once per
// principal per cache TTL, not once per CONNECT.
import type { ServiceAccountRepository, VehicleRepository } from '@fleet/db';
import type { CredentialStore } from '../ports.js';

export class RegistryCredentialStore implements CredentialStore {
  constructor(
    private readonly vehicles: Pick<VehicleRepository, 'findCredential'>,
    private readonly serviceAccounts: Pick<ServiceAccountRepository, 'findCredential'>,
  ) {}

  async findVehicle(id: string): Promise<{ tenantId: string; secretDigest: Buffer } | undefined> {
    const credential = await this.vehicles.findCredential(id);
    // A vehicle without a secret (provisioned, never issued one) cannot log in: same as unknown.
    if (!credential || credential.secretDigest === null) return undefined;
    return { tenantId: credential.tenantId, secretDigest: credential.secretDigest };
  }

  async findServiceAccount(id: string): Promise<{ secretDigest: Buffer } | undefined> {
    // Disabled accounts are filtered by the repository.
    return this.serviceAccounts.findCredential(id);
  }
}
