// The simulator's firmware habits against a real broker (Mosquitto 2) and a real MQTT.js subscriber: the broker is
// stopped while the fleet keeps producing, and every sample arrives afterwards (no gap in seq), flushed as arrays;
// statuses are retained, the Last Will marks a vehicle that dies offline, a clean stop sets the status offline.
//
// Time: the fleet runs at 10× so a 30 s simulated outage is 3 s of wall-clock time (the outage is held for 3.5 s).
import { spawn } from 'node:child_process';
import mqtt, { type MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fleetDefinition } from '../../../simulators/src/fleet-definition.js';
import { startFleet, type FleetHandle } from '../../../simulators/src/fleet.js';
import { ROOT } from '../../support/process.js';
import { Mosquitto } from './mosquitto.js';

const SPEED = 10;
const OUTAGE_REAL_MS = 3500; // 35 s of simulated time

interface Received {
  topic: string;
  payload: string;
  retain: boolean;
}

async function subscriber(url: string, clientId: string, topics: string[], clean: boolean): Promise<{ client: MqttClient; messages: Received[] }> {
  const messages: Received[] = [];
  const client = mqtt.connect(url, { clientId, clean, reconnectPeriod: 200, protocolVersion: 4 });
  client.on('message', (topic, payload, packet) => messages.push({ topic, payload: payload.toString(), retain: packet.retain }));
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  await client.subscribeAsync(topics, { qos: 1 });
  return { client, messages };
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Every sample seq per vehicle from the received telemetry payloads (objects or arrays). */
function seqsByVehicle(messages: Received[]): Map<string, number[]> {
  const out = new Map<string, number[]>();
  for (const m of messages) {
    const match = /^fleet\/([^/]+)\/telemetry$/.exec(m.topic);
    if (!match) continue;
    const parsed = JSON.parse(m.payload) as { seq: number } | Array<{ seq: number }>;
    const list = out.get(match[1] as string) ?? [];
    for (const s of Array.isArray(parsed) ? parsed : [parsed]) list.push(s.seq);
    out.set(match[1] as string, list);
  }
  return out;
}

function retainedStatuses(messages: Received[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const m of messages) {
    const match = /^fleet\/([^/]+)\/status$/.exec(m.topic);
    if (match && m.retain) out.set(match[1] as string, m.payload);
  }
  return out;
}

describe('simulated firmware against Mosquitto', () => {
  let broker: Mosquitto;
  beforeAll(async () => {
    broker = await Mosquitto.start();
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('loses no sample while the broker is down, flushes the backlog as arrays, and retains statuses', async () => {
    const vehicles = fleetDefinition('sf', undefined, 'sweeper:bev=1,bus:fcev=1,reefer:ice=1', { idPrefix: 'SAF' });
    // A persistent session: what the fleet flushes right after the restart is queued for us even if we are not back yet.
    const sub = await subscriber(broker.url, 'saf-recorder', ['fleet/+/telemetry', 'fleet/+/status'], false);
    let fleet: FleetHandle | undefined;
    try {
      fleet = startFleet({ url: broker.url, seed: 'sf', vehicles, speed: SPEED, tickMs: 50, backoff: { initialMs: 100, maxMs: 800 } });
      const perVehicle = (n: number) => () => vehicles.every((v) => (seqsByVehicle(sub.messages).get(v.id)?.length ?? 0) >= n);
      await until(perVehicle(3), 20_000, 'samples before the outage');

      // The status is retained: a subscriber arriving now gets it from the broker's store.
      const late = await subscriber(broker.url, 'saf-late', ['fleet/+/status'], true);
      await until(() => retainedStatuses(late.messages).size === vehicles.length, 5000, 'retained online statuses');
      for (const payload of retainedStatuses(late.messages).values()) expect(JSON.parse(payload)).toEqual({ v: 1, online: true, fw: '1.4.2' });
      await late.client.endAsync();

      const before = Math.max(...[...seqsByVehicle(sub.messages).values()].map((s) => Math.max(...s)));
      await broker.halt();
      await until(() => fleet!.stats().connected === 0, 5000, 'the fleet to notice the outage');
      await new Promise((r) => setTimeout(r, OUTAGE_REAL_MS));
      const buffered = fleet.stats().buffered;
      // ≥ 30 s of simulated time at one sample per 10 s for 3 vehicles.
      expect(buffered).toBeGreaterThanOrEqual(3 * 3);
      await broker.resume();

      await until(() => fleet!.stats().connected === vehicles.length && fleet!.stats().buffered === 0, 15_000, 'reconnect and flush');
      const target = before + 8;
      await until(perVehicle(target), 20_000, 'samples after the outage');
      const final = await fleet.stop();
      fleet = undefined;
      expect(final.dropped).toBe(0);
      await until(() => vehicles.every((v) => retainedOrLast(sub.messages, v.id) === '{"v":1,"online":false}'), 5000, 'offline statuses after stop');

      const seqs = seqsByVehicle(sub.messages);
      for (const v of vehicles) {
        const got = [...new Set(seqs.get(v.id))].sort((a, b) => a - b);
        const max = got[got.length - 1] as number;
        // No gap: every seq from 0 to the last one arrived (duplicates from re-sent in-flight messages are fine).
        expect(got).toEqual([...Array(max + 1).keys()]);
        expect(max).toBeGreaterThan(before);
      }
      // The backlog went out as sample arrays.
      const arrays = sub.messages.filter((m) => m.topic.endsWith('/telemetry') && m.payload.startsWith('['));
      expect(arrays.length).toBeGreaterThan(0);
    } finally {
      if (!broker.running) await broker.resume(); // the next test needs it
      await fleet?.stop();
      await sub.client.endAsync(true);
    }
  });

  it('publishes the retained Last Will when the firmware dies without a goodbye', async () => {
    const sub = await subscriber(broker.url, 'will-watch', ['fleet/WILL-BUS-0001/status'], true);
    const child = spawn(
      process.execPath,
      ['--import', './scripts/register.mjs', 'simulators/src/cli.ts', '--url', broker.url, '--mix', 'bus=1', '--id-prefix', 'WILL', '--seed', 'w'],
      { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    try {
      await until(() => sub.messages.some((m) => m.payload.includes('"online":true')), 20_000, `online status (sim stderr: ${stderr})`);
      child.kill('SIGKILL');
      await until(() => sub.messages.some((m) => m.payload === '{"v":1,"online":false}'), 10_000, 'the Last Will');
      // And it is retained: a newcomer sees the vehicle offline.
      const late = await subscriber(broker.url, 'will-late', ['fleet/WILL-BUS-0001/status'], true);
      await until(() => late.messages.length > 0, 5000, 'retained will');
      expect(late.messages[0]).toMatchObject({ payload: '{"v":1,"online":false}', retain: true });
      await late.client.endAsync();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
      await sub.client.endAsync(true);
    }
  });
});

function retainedOrLast(messages: Received[], vehicleId: string): string | undefined {
  const statuses = messages.filter((m) => m.topic === `fleet/${vehicleId}/status`);
  return statuses[statuses.length - 1]?.payload;
}
