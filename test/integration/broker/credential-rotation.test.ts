// SPEC §3 ("rotatable") and §4.6 (isolation) in distributed mode, where nothing tells the broker of a rotation: an old
// secret still in the credential cache must not take over (kick) the session of the vehicle that holds the new one.
// The in-memory credential store stands in for the registry; changing it is a rotation the broker is not told of.
import { afterEach, describe, expect, it } from 'vitest';
import { closeTrackedClients, connackCode, connectClient, digest, newSecret, sleep, startBroker, type TestBroker } from './harness.js';

describe('broker: secret rotation without notice (distributed mode)', () => {
  let broker: TestBroker | undefined;
  afterEach(async () => {
    await closeTrackedClients();
    await broker?.stop();
  });

  function rotate(b: TestBroker, id: string): string {
    const secret = newSecret();
    b.credentials.vehicles.set(id, { tenantId: 'tenant-a', secretDigest: digest(secret) });
    return secret;
  }

  it('refuses a takeover with the rotated-out secret (CONNACK 4) and leaves the vehicle with the new one connected', async () => {
    broker = await startBroker({ credentialCacheTtlMs: 60_000 });
    const oldSecret = broker.credentials.addVehicle('V1');
    const before = await connectClient(broker, { clientId: 'V1', username: 'V1', password: oldSecret }); // caches the old digest
    const newSecretV1 = rotate(broker, 'V1');
    // The vehicle gets its new secret and reconnects while its old session is still open (a takeover of itself).
    const honest = await connectClient(broker, { clientId: 'V1', username: 'V1', password: newSecretV1 });
    await sleep(100);
    expect(before.connected).toBe(false);
    let honestClosed = false;
    honest.on('close', () => (honestClosed = true));

    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: oldSecret })).toBe(4);
    await sleep(200);
    expect(honestClosed).toBe(false);
    expect(honest.connected).toBe(true);
    await honest.publishAsync('fleet/V1/telemetry', '{}', { qos: 1 });
    expect(broker.ingest.committed).toHaveLength(1);
    expect(broker.logs.filter((l) => l.event === 'connect_refused')).toEqual([
      expect.objectContaining({ reason: 'bad_credentials', returnCode: 4, takeover: true, clientId: 'V1' }),
    ]);
    expect(broker.rawLogs.join('')).not.toContain(oldSecret);
  });

  it('checks a takeover against the registry, not the cache, even while the cached digest still matches', async () => {
    broker = await startBroker({ credentialCacheTtlMs: 60_000 });
    const oldSecret = broker.credentials.addVehicle('V1');
    const live = await connectClient(broker, { clientId: 'V1', username: 'V1', password: oldSecret });
    rotate(broker, 'V1');
    const lookups = broker.credentials.lookups;
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: oldSecret })).toBe(4);
    expect(broker.credentials.lookups).toBeGreaterThan(lookups);
    await sleep(100);
    expect(live.connected).toBe(true); // a refused takeover closes nothing
    const refused = (await broker.service.metrics.refusals.get()).values.find((v) => v.labels.reason === 'bad_credentials');
    expect(refused?.value).toBe(1);
  });

  it('lets a vehicle that was offline in with its new secret at once, and the old one no longer', async () => {
    broker = await startBroker({ credentialCacheTtlMs: 60_000 });
    const oldSecret = broker.credentials.addVehicle('V1');
    const before = await connectClient(broker, { clientId: 'V1', username: 'V1', password: oldSecret }); // caches the old digest
    await before.endAsync();
    const newSecretV1 = rotate(broker, 'V1');
    // Nothing is connected under V1, so this is no takeover: the cached (old) digest refuses the new secret, and the
    // registry is asked once more before the refusal.
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: newSecretV1 })).toBe(0);
    expect(await connackCode(broker, { clientId: 'V1', username: 'V1', password: oldSecret })).toBe(4);
    // A vehicle provisioned in another process after a refused lookup (the negative cache) gets in at once too.
    expect(await connackCode(broker, { clientId: 'V2', username: 'V2', password: newSecret() })).toBe(4);
    const v2 = broker.credentials.addVehicle('V2');
    expect(await connackCode(broker, { clientId: 'V2', username: 'V2', password: v2 })).toBe(0);
  });

  it('still answers a CONNECT nobody is connected under from the cache', async () => {
    broker = await startBroker({ credentialCacheTtlMs: 60_000 });
    const secret = broker.credentials.addVehicle('V1');
    const first = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret });
    await first.endAsync();
    await sleep(50);
    const lookups = broker.credentials.lookups;
    const again = await connectClient(broker, { clientId: 'V1', username: 'V1', password: secret });
    expect(again.connected).toBe(true);
    expect(broker.credentials.lookups).toBe(lookups);
  });
});
