// Caches registry lookups for a short TTL (positive and negative) so a reconnect storm does not become a query storm;
// invalidate(id) is how a secret rotation takes effect at once on this broker, and a `fresh` lookup (which refreshes
// the entry) is how a caller that cannot afford a stale answer bypasses it.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { CredentialStore, LookupOptions } from '../ports.js';

type VehicleCredentials = { tenantId: string; secretDigest: Buffer };
type ServiceCredentials = { secretDigest: Buffer };

interface Entry<T> {
  value: T | undefined;
  expiresAt: number;
}

export class CachedCredentialStore implements CredentialStore {
  private readonly vehicles = new Map<string, Entry<VehicleCredentials>>();
  private readonly services = new Map<string, Entry<ServiceCredentials>>();

  constructor(
    private readonly store: CredentialStore,
    private readonly ttlMs: number,
    private readonly negativeTtlMs: number,
    private readonly maxEntries = 100_000,
    private readonly now: () => number = Date.now,
  ) {}

  findVehicle(id: string, opts: LookupOptions = {}): Promise<VehicleCredentials | undefined> {
    return this.lookup(this.vehicles, id, opts, () => this.store.findVehicle(id, opts));
  }

  findServiceAccount(id: string, opts: LookupOptions = {}): Promise<ServiceCredentials | undefined> {
    return this.lookup(this.services, id, opts, () => this.store.findServiceAccount(id, opts));
  }

  /** Forget what is known about `id` (vehicle or service account), e.g. after its secret was rotated. */
  invalidate(id: string): void {
    this.vehicles.delete(id);
    this.services.delete(id);
  }

  clear(): void {
    this.vehicles.clear();
    this.services.clear();
  }

  private async lookup<T>(cache: Map<string, Entry<T>>, id: string, opts: LookupOptions, load: () => Promise<T | undefined>): Promise<T | undefined> {
    const hit = cache.get(id);
    const now = this.now();
    if (!opts.fresh && hit && hit.expiresAt > now) return hit.value;
    const value = await load();
    const ttl = value === undefined ? this.negativeTtlMs : this.ttlMs;
    if (ttl > 0) {
      // Bounded: evict the oldest insertion when full (Map keeps insertion order), so junk ids cannot grow it.
      if (cache.size >= this.maxEntries) cache.delete(cache.keys().next().value as string);
      cache.set(id, { value, expiresAt: now + ttl });
    }
    return value;
  }
}

export function secretDigest(secret: Buffer | string): Buffer {
  return createHash('sha256').update(secret).digest();
}

/** Constant-time comparison of SHA-256(secret) with the stored digest (the secret is high-entropy: no slow KDF). */
export function secretMatches(secret: Buffer, storedDigest: Buffer): boolean {
  const digest = secretDigest(secret);
  if (storedDigest.length !== digest.length) return false;
  return timingSafeEqual(digest, storedDigest);
}
