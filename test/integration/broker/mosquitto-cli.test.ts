// The mosquitto_pub / mosquitto_sub command-line clients (libmosquitto, MQTT 3.1.1) against the broker: publishing
// QoS 1 telemetry, a retained status read back by a service account, and the refusals as a CLI user sees them.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { closeTrackedClients, run, startBroker, type TestBroker, waitFor } from './harness.js';

describe('broker: mosquitto CLI clients', () => {
  let broker: TestBroker;
  let secret: string;
  let ingestSecret: string;
  const base = (): string[] => ['-h', '127.0.0.1', '-p', String(broker.port), '-V', 'mqttv311'];
  const asVehicle = (id = 'V1', password = secret): string[] => [...base(), '-i', id, '-u', id, '-P', password];

  beforeEach(async () => {
    broker = await startBroker();
    secret = broker.credentials.addVehicle('V1');
    ingestSecret = broker.credentials.addServiceAccount('ingest');
  });
  afterEach(async () => {
    await closeTrackedClients();
    await broker.stop();
  });

  it('mosquitto_pub publishes QoS 1 telemetry that reaches the ingest sink', async () => {
    const result = await run('mosquitto_pub', [...asVehicle(), '-t', 'fleet/V1/telemetry', '-q', '1', '-m', '{"v":1,"seq":1}']);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(broker.ingest.payloads('V1')).toEqual(['{"v":1,"seq":1}']);
  });

  it('mosquitto_pub -r keeps a retained status that mosquitto_sub (service account) reads back', async () => {
    const pub = await run('mosquitto_pub', [...asVehicle(), '-t', 'fleet/V1/status', '-q', '1', '-r', '-m', '{"v":1,"online":true}']);
    expect(pub.code).toBe(0);
    const sub = await run('mosquitto_sub', [...base(), '-i', 'ingest:cli', '-u', 'ingest', '-P', ingestSecret, '-t', 'fleet/+/status', '-q', '1', '-C', '1', '-v', '-W', '5']);
    expect(sub.code).toBe(0);
    expect(sub.stdout.trim()).toBe('fleet/V1/status {"v":1,"online":true}');
    expect(broker.ingest.payloads('V1')).toEqual(['{"v":1,"online":true}']);
  });

  it('refuses a wrong password and a foreign client id as the CLI reports them', async () => {
    const wrong = await run('mosquitto_pub', [...asVehicle('V1', 'not-the-secret'), '-t', 'fleet/V1/telemetry', '-q', '1', '-m', '{}']);
    expect(wrong.code).not.toBe(0);
    expect(wrong.stderr).toMatch(/bad user name or password/i);
    const mismatch = await run('mosquitto_pub', [...base(), '-i', 'V2', '-u', 'V1', '-P', secret, '-t', 'fleet/V1/telemetry', '-q', '1', '-m', '{}']);
    expect(mismatch.code).not.toBe(0);
    expect(mismatch.stderr).toMatch(/not authori[sz]ed/i);
    expect(broker.ingest.attempts).toHaveLength(0);
  });

  it('mosquitto_sub on another vehicle’s commands or on # is denied', async () => {
    const sub = await run('mosquitto_sub', [...asVehicle(), '-t', 'fleet/V2/cmd', '-t', '#', '-q', '1', '-W', '2']);
    // mosquitto 2.0 exits 0 here; what matters is the SUBACK it got (every filter 0x80) and that nothing arrived
    expect(sub.stderr).toMatch(/All subscription requests were denied/);
    expect(sub.stdout).toBe('');
  });
});
