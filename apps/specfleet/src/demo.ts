// The demo tenant of `npm start`: its operator and admin API keys (from FLEET_DEMO_API_KEY / FLEET_ADMIN_API_KEY,
// else generated once and kept in the data dir so a restart prints the same keys) and the simulated vehicles,
// registered with fresh MQTT secrets at every start (only their digests are stored, so the in-process simulator
// needs new ones).
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Config } from '@fleet/config';
import { type DB, VehicleRepository } from '@fleet/db';
import type { Kysely } from 'kysely';
import { DEMO_TENANT, ensureDemoTenant } from '../../query/src/auth/api-key-admin.js';
import { generateApiKey } from '../../query/src/auth/api-key.js';
import { generateVehicleSecret } from '../../query/src/vehicles/vehicle-secret.js';
import type { FleetVehicle } from '../../../simulators/src/index.js';

export { DEMO_TENANT };

export interface DemoKeys {
  operatorKey: string;
  adminKey: string;
  /** Where generated keys are kept; undefined when both came from the environment. */
  keptIn: string | undefined;
}

export async function seedDemoTenant(db: Kysely<DB>, config: Config): Promise<DemoKeys> {
  const file = join(config.SPECFLEET_DATA_DIR, 'demo-api-keys.json');
  const kept = existsSync(file) ? (JSON.parse(await readFile(file, 'utf8')) as Partial<Record<'operator' | 'admin', string>>) : {};
  const operatorKey = config.FLEET_DEMO_API_KEY ?? kept.operator ?? generateApiKey();
  const adminKey = config.FLEET_ADMIN_API_KEY ?? kept.admin ?? generateApiKey();
  const generated = !config.FLEET_DEMO_API_KEY || !config.FLEET_ADMIN_API_KEY;
  if (generated) {
    await mkdir(config.SPECFLEET_DATA_DIR, { recursive: true });
    await writeFile(file, `${JSON.stringify({ operator: operatorKey, admin: adminKey }, null, 2)}\n`, { mode: 0o600 });
  }
  await ensureDemoTenant(db, { operatorKey, adminKey });
  return { operatorKey, adminKey, keptIn: generated ? file : undefined };
}

/** Registers the simulated vehicles in the demo tenant (or rotates their secrets) and returns id → secret. */
export async function provisionDemoVehicles(db: Kysely<DB>, vehicles: readonly FleetVehicle[]): Promise<Record<string, string>> {
  const repository = new VehicleRepository(db);
  const credentials: Record<string, string> = {};
  for (const vehicle of vehicles) {
    const { secret, digest } = generateVehicleSecret();
    const existing = await repository.findById(vehicle.id);
    if (existing && existing.tenantId !== DEMO_TENANT.id) {
      throw new Error(`vehicle ${vehicle.id} belongs to tenant ${existing.tenantId}, not to the demo tenant`);
    }
    if (existing) await repository.rotateSecret(vehicle.id, digest);
    else {
      await repository.create({
        id: vehicle.id,
        tenantId: DEMO_TENANT.id,
        type: vehicle.type,
        bodyType: vehicle.bodyType,
        powertrain: vehicle.powertrain,
        reportIntervalS: 10,
        secretDigest: digest,
      });
    }
    credentials[vehicle.id] = secret;
  }
  return credentials;
}

/**
 * The broker URL the in-process fleet connects to: MQTT_HOST when the broker listens on one address (a LAN address or
 * ::1 does not answer on 127.0.0.1), loopback when it listens on all of them.
 */
export function fleetBrokerUrl(mqttHost: string, port: number): string {
  const host = mqttHost === '0.0.0.0' || mqttHost === '::' ? '127.0.0.1' : mqttHost;
  return `mqtt://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Largest backlog message of the in-process fleet: under MQTT_MAX_PACKET_BYTES (with room for the topic and headers), at most the simulator's 200 KiB. */
export function fleetMaxBatchBytes(maxPacketBytes: number): number {
  return Math.max(512, Math.min(200 * 1024, maxPacketBytes - 1024));
}
