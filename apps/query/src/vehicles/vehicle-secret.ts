// Vehicle MQTT secrets (SPEC §3): 256 random bits, shown once, stored as SHA-256 digest.
import { createHash, randomBytes } from 'node:crypto';

export function generateVehicleSecret(): { secret: string; digest: Buffer } {
  const secret = randomBytes(32).toString('base64url');
  return { secret, digest: createHash('sha256').update(secret, 'utf8').digest() };
}
