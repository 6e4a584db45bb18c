// Vehicle credentials for the simulator: read from a JSON file (vehicle id → secret or credentials), or created
// through the query API (`POST /api/v1/vehicles`, admin key), whose answer carries the MQTT credentials once.
import { readFile, writeFile } from 'node:fs/promises';
import type { VehicleCredentials } from './firmware/vehicle-client.js';
import type { FleetVehicle } from './fleet-definition.js';
import { vehicleClass } from './vehicles/index.js';

export type CredentialMap = Record<string, Partial<VehicleCredentials> & { password: string }>;

/** Reads `{ "SZ-SWP-0001": "secret" }` or `{ "SZ-SWP-0001": { "password": "…", "username"?, "client_id"?, "host"?, "port"? } }`. */
export async function loadCredentialsFile(path: string): Promise<CredentialMap> {
  const parsed = JSON.parse(await readFile(path, 'utf8')) as unknown;
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error(`${path}: expected an object of vehicle id → secret`);
  const out: CredentialMap = {};
  for (const [id, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof value === 'string') out[id] = { password: value };
    else if (value && typeof value === 'object' && typeof (value as { password?: unknown }).password === 'string') out[id] = fromMqttAnswer(value as MqttAnswer);
    else throw new Error(`${path}: ${id}: expected a secret string or an object with a password`);
  }
  return out;
}

export async function saveCredentialsFile(path: string, credentials: CredentialMap): Promise<void> {
  await writeFile(path, `${JSON.stringify(credentials, null, 2)}\n`, { mode: 0o600 });
}

interface MqttAnswer {
  host?: string;
  port?: number;
  username?: string;
  password: string;
  client_id?: string;
  clientId?: string;
  url?: string;
}

function fromMqttAnswer(m: MqttAnswer): Partial<VehicleCredentials> & { password: string } {
  const c: Partial<VehicleCredentials> & { password: string } = { password: m.password };
  if (m.username) c.username = m.username;
  const clientId = m.client_id ?? m.clientId;
  if (clientId) c.clientId = clientId;
  if (m.url) c.url = m.url;
  else if (m.host && m.port) c.url = `mqtt://${m.host}:${m.port}`;
  return c;
}

export interface ProvisionOptions {
  apiUrl: string;
  adminKey: string;
  reportIntervalS?: number;
  /** Use the broker address from the API's answer (default false: the --url of the simulator wins). */
  useAnsweredHost?: boolean;
  concurrency?: number;
  log?: (message: string) => void;
}

/**
 * Creates each vehicle through the API; a vehicle that already exists (409) gets its secret rotated instead, so a
 * second run works without a saved credentials file.
 */
export async function provisionVehicles(vehicles: readonly FleetVehicle[], options: ProvisionOptions): Promise<CredentialMap> {
  const base = options.apiUrl.replace(/\/+$/, '');
  const headers = { authorization: `Bearer ${options.adminKey}`, 'content-type': 'application/json' };
  const out: CredentialMap = {};
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < vehicles.length) {
      const v = vehicles[next++] as FleetVehicle;
      const spec = vehicleClass(v.type).powertrain(v.powertrain);
      const body = {
        id: v.id,
        type: v.type,
        body_type: v.bodyType,
        powertrain: v.powertrain,
        model: `specfleet-sim ${vehicleClass(v.type).label}`,
        ...(spec.batteryKwh > 0 ? { battery_kwh: spec.batteryKwh } : {}),
        ...(spec.h2CapacityKg > 0 ? { h2_capacity_kg: spec.h2CapacityKg } : {}),
        ...(spec.fuelCapacityL > 0 ? { fuel_capacity_l: spec.fuelCapacityL } : {}),
        report_interval_s: options.reportIntervalS ?? vehicleClass(v.type).reportIntervalS,
      };
      let res = await fetch(`${base}/api/v1/vehicles`, { method: 'POST', headers, body: JSON.stringify(body) });
      if (res.status === 409) {
        res = await fetch(`${base}/api/v1/vehicles/${encodeURIComponent(v.id)}/credentials`, { method: 'POST', headers });
      }
      if (!res.ok) throw new Error(`provisioning ${v.id}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
      const answer = (await res.json()) as { mqtt?: MqttAnswer; password?: string };
      const mqtt = answer.mqtt ?? (answer.password ? { password: answer.password } : undefined);
      if (!mqtt?.password) throw new Error(`provisioning ${v.id}: the answer has no mqtt.password`);
      const creds = fromMqttAnswer(mqtt);
      if (!options.useAnsweredHost) delete creds.url;
      out[v.id] = creds;
    }
  };
  await Promise.all(Array.from({ length: Math.min(options.concurrency ?? 8, vehicles.length) }, worker));
  options.log?.(`provisioned ${vehicles.length} vehicles through ${base}`);
  return out;
}
