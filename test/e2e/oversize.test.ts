// SPEC §4.3 (oversize) with §4.7 in embedded mode: a vehicle's PUBLISH larger than MQTT_MAX_PACKET_BYTES is read past
// without being buffered, dead-lettered as PAYLOAD_TOO_LARGE with the first 4 KiB of its payload, counted, and
// acknowledged; the connection stays open and the vehicle's next message is stored. Real broker, pipeline, database
// and MQTT.js client.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../setup/database.js';
import { apiClient, connectVehicle, provision, publish, seedTenant, type Stack, startTestStack, type TenantKeys, within } from './support/stack.js';

describeEachBackend('embedded mode: a PUBLISH over the packet limit', (backend) => {
  let database: TestDatabase;
  let stack: Stack;
  let keys: TenantKeys;
  beforeAll(async () => {
    database = await createTestDatabase(backend);
    keys = await seedTenant(database, 'acme');
    stack = await startTestStack(database, { MQTT_MAX_PACKET_BYTES: '16384' });
  }, 60_000);
  afterAll(async () => {
    await stack?.stop();
    await database?.drop();
  });

  it('is dead-lettered with its reason and the start of its payload, acknowledged, and the connection carries on', async () => {
    const api = apiClient(stack.httpPort);
    const vehicle = await provision(api, keys.admin, { id: 'OV-1', type: 'road_sweeper', body_type: 'sweeper', powertrain: 'bev' });
    const client = await connectVehicle(stack.mqttPort, vehicle);
    try {
      const now = Date.now();
      const sample = (seq: number) => ({ v: 1, ts: new Date(now - (1_000 - seq) * 1_000).toISOString(), seq, state: 'working', battery: { soc_pct: 70 } });
      // A backlog of 400 samples: ~36 KB, over the 16 KiB limit.
      const backlog = Buffer.from(JSON.stringify(Array.from({ length: 400 }, (_, i) => sample(i + 1))));
      expect(backlog.length).toBeGreaterThan(16_384);
      const packetBytes = 1 + 3 + 2 + 'fleet/OV-1/telemetry'.length + 2 + backlog.length;
      // MQTT.js keeps an unacknowledged publish for a reconnect: a closed connection must fail the test, not hang it.
      const closed = new Promise<never>((_, reject) => client.once('close', () => reject(new Error('the broker closed the connection'))));
      closed.catch(() => undefined);
      await Promise.race([client.publishAsync('fleet/OV-1/telemetry', backlog, { qos: 1 }), closed]); // its PUBACK
      await Promise.race([publish(client, 'fleet/OV-1/telemetry', sample(999)), closed]);
      expect(client.connected, 'the connection stays open').toBe(true);

      const dead = await database.db.selectFrom('dead_letters').selectAll().where('vehicle_id', '=', 'OV-1').execute();
      expect(dead).toHaveLength(1);
      expect(dead[0]).toMatchObject({ topic: 'fleet/OV-1/telemetry', reason: 'PAYLOAD_TOO_LARGE' });
      expect(dead[0]!.detail).toContain(`packet: ${packetBytes} bytes > 16384`);
      expect(Buffer.from(dead[0]!.raw!)).toEqual(backlog.subarray(0, 4096));
      const stored = await database.db.selectFrom('telemetry').select('seq').where('vehicle_id', '=', 'OV-1').execute();
      expect(stored.map((r) => Number(r.seq)), 'only the message after it').toEqual([999]);
      await within(1_000, async () => {
        const metrics = await (await fetch(`http://127.0.0.1:${stack.httpPort}/metrics`)).text();
        expect(metrics).toMatch(/specfleet_ingest_dead_letters_total\{[^}]*reason="PAYLOAD_TOO_LARGE"[^}]*\} 1\b/);
      });
    } finally {
      await client.endAsync(true);
    }
  });
});
