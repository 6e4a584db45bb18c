// API keys: high-entropy random strings, stored only as their SHA-256 digest (a fast hash is right for a 256-bit
// secret: there is nothing to brute-force). The prefix lets an operator recognise a key in a list.
import { createHash, randomBytes } from 'node:crypto';

export const API_KEY_PREFIX = 'sfk_';

/** A new key: "sfk_" + 32 random bytes in base64url (43 characters). */
export function generateApiKey(): string {
  return `${API_KEY_PREFIX}${randomBytes(32).toString('base64url')}`;
}

export function digestOf(secret: string): Buffer {
  return createHash('sha256').update(secret, 'utf8').digest();
}

/** What is stored to recognise a key in lists: its first 12 characters (the random part is 43 long). */
export function keyPrefix(key: string): string {
  return key.slice(0, 12);
}

/** The bearer token of an Authorization header, or undefined when there is none or it is malformed. */
export function bearerToken(header: string | string[] | undefined): string | undefined {
  if (typeof header !== 'string') return undefined;
  const m = /^Bearer[ ]+([A-Za-z0-9._~+/=-]{16,512})\s*$/i.exec(header);
  return m?.[1];
}
