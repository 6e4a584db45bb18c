// Who an API key belongs to, remembered for a few seconds: every request is authenticated, and looking the key up in
// api_keys was a database round trip on every request — a third of fleet status' statements. Revocation (the
// api-keys CLI, another process) reaches this process only through the database, so a cached key is trusted for at
// most options.apiKeyCacheS seconds after it was read; 0 turns the cache off. Unknown and revoked keys are never
// cached: a key created a moment ago works at once, and a wrong key always costs a lookup, as before.
import { Inject, Injectable } from '@nestjs/common';
import { type ApiKey, ApiKeyRepository } from '@fleet/db';
import { QUERY_OPTIONS, type QueryOptions } from '../query.options.js';
import { digestOf } from './api-key.js';

/** Enough for every key of every tenant of one deployment; beyond it the oldest entry goes first. */
const MAX_ENTRIES = 10_000;

@Injectable()
export class ApiKeyCache {
  /** SHA-256 of the key (hex) → the key and when it was read; insertion order = age. */
  private readonly entries = new Map<string, { key: ApiKey; readAt: number }>();
  private readonly ttlMs: number;

  constructor(
    @Inject(ApiKeyRepository) private readonly keys: ApiKeyRepository,
    @Inject(QUERY_OPTIONS) options: QueryOptions,
    private readonly clock: () => number = Date.now,
  ) {
    this.ttlMs = options.apiKeyCacheS * 1000;
  }

  /** The active key for this bearer token, or undefined when it is unknown or revoked. */
  async find(token: string): Promise<ApiKey | undefined> {
    const digest = digestOf(token);
    if (this.ttlMs <= 0) return this.keys.findByDigest(digest);
    const id = digest.toString('hex');
    const now = this.clock();
    const hit = this.entries.get(id);
    if (hit && now - hit.readAt < this.ttlMs) return hit.key;
    this.entries.delete(id);
    const key = await this.keys.findByDigest(digest);
    if (key) {
      if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value!);
      this.entries.set(id, { key, readAt: now });
    }
    return key;
  }
}
