// The ingestion pipeline on a real database (both backends): bad input is dead-lettered and never blocks good input,
// duplicates and out-of-order samples are stored once, vehicle_state keeps the newest, alarms set and clear.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachBackend, type TestDatabase } from '../../setup/database.js';
import type { IngestionPipeline } from '../../../apps/ingestion/src/pipeline/ingestion-pipeline.js';
import { message, provisionVehicles, sample, testPipeline, within } from './helpers.js';

describeEachBackend('ingestion pipeline', (backend) => {
  let test: TestDatabase;
  let pipeline: IngestionPipeline;
  const now = Date.now();

  beforeAll(async () => {
    test = await createTestDatabase(backend);
    await provisionVehicles(test.db, ['V-ORDER', 'V-BAD', 'V-ALARM', 'V-BACKLOG', 'V-DTC', 'V-STATUS']);
    pipeline = testPipeline(test.db, { decode: { maxBytes: 64 * 1024 } });
  });
  afterAll(async () => {
    await pipeline?.close();
    await test?.drop();
  });

  it('stores duplicates and out-of-order samples once and keeps the newest in vehicle_state', async () => {
    const base = now - 3_600_000;
    const seqs = [5, 1, 3, 2, 5, 4, 1, 3];
    await within(
      Promise.all(seqs.map((s) => pipeline.ingest(message('V-ORDER', 'telemetry', sample({ tsMs: base + s * 1000, seq: s, traction: 100 + s, extra: { position: { lat: 31 + s / 100, lon: 113 } } }))))),
      10_000,
      'ingest',
    );
    // A late sample and a redelivery after the newest was stored.
    await pipeline.ingest(message('V-ORDER', 'telemetry', sample({ tsMs: base + 500, seq: 0, traction: 100 })));
    await pipeline.ingest(message('V-ORDER', 'telemetry', sample({ tsMs: base + 5000, seq: 5, traction: 105 })));

    const rows = await test.db.selectFrom('telemetry').select(['seq']).where('vehicle_id', '=', 'V-ORDER').orderBy('seq').execute();
    expect(rows.map((r) => r.seq)).toEqual([0, 1, 2, 3, 4, 5]);
    const state = await test.db.selectFrom('vehicle_state').selectAll().where('vehicle_id', '=', 'V-ORDER').executeTakeFirstOrThrow();
    expect(state.last_seq).toBe(5);
    expect(state.last_ts?.getTime()).toBe(base + 5000);
    expect(state.lat).toBeCloseTo(31.05);
    const energy = await test.db.selectFrom('energy_hourly').select((eb) => [eb.fn.sum<number>('traction_kwh').as('kwh'), eb.fn.sum<number>('samples').as('n')]).where('vehicle_id', '=', 'V-ORDER').executeTakeFirstOrThrow();
    expect(Number(energy.kwh)).toBeCloseTo(5);
    expect(Number(energy.n)).toBe(6);
  });

  it('a backlog array is stored whole; a bad element is dead-lettered with its index, the rest stored', async () => {
    const base = now - 2 * 3_600_000;
    const backlog = Array.from({ length: 50 }, (_, i) => sample({ tsMs: base + i * 10_000, seq: i, traction: i }));
    backlog[7] = { ...backlog[7], battery: { soc_pct: 140 } };
    await pipeline.ingest(message('V-BACKLOG', 'telemetry', backlog));
    const n = await test.db.selectFrom('telemetry').select((eb) => eb.fn.countAll<number>().as('n')).where('vehicle_id', '=', 'V-BACKLOG').executeTakeFirstOrThrow();
    expect(Number(n.n)).toBe(49);
    const dl = await test.db.selectFrom('dead_letters').selectAll().where('vehicle_id', '=', 'V-BACKLOG').execute();
    expect(dl).toHaveLength(1);
    expect(dl[0]).toMatchObject({ reason: 'OUT_OF_RANGE', topic: 'fleet/V-BACKLOG/telemetry' });
    expect(dl[0]!.detail).toContain('[7]');
    expect(JSON.parse(dl[0]!.raw!.toString())).toEqual([backlog[7]]);

    // Ten bad samples in the middle of a 1,000-sample backlog: one dead letter that names every index, keeps those
    // ten samples as its raw (not the message's first 4 KiB, which are samples that were stored) and counts ten.
    const counted = async () => (await pipeline.metrics.deadLettered.get()).values.find((v) => v.labels.reason === 'OUT_OF_RANGE')?.value ?? 0;
    const before = await counted();
    const big = Array.from({ length: 1000 }, (_, i) => sample({ tsMs: base + 600_000 + i * 1000, seq: 1000 + i }));
    for (let i = 500; i < 510; i++) big[i] = { ...big[i], battery: { soc_pct: 140 } };
    await pipeline.ingest(message('V-BACKLOG', 'telemetry', big));
    const [, second] = await test.db.selectFrom('dead_letters').selectAll().where('vehicle_id', '=', 'V-BACKLOG').orderBy('id').execute();
    expect(second!.detail).toMatch(/^10 elements \[500–509\]: \[500\] battery\.soc_pct: 140 > 100;/);
    expect((JSON.parse(second!.raw!.toString()) as Array<{ seq: number }>).map((e) => e.seq)).toEqual(Array.from({ length: 10 }, (_, i) => 1500 + i));
    expect(await counted()).toBe(before + 10);
  });

  it('dead-letters every bad-input class with its reason and keeps going', async () => {
    const ok = (seq: number) => sample({ tsMs: now - 60_000 + seq, seq });
    const cases: Array<[string, Uint8Array | string | unknown]> = [
      ['MALFORMED_JSON', '{"v":1,"ts":'],
      ['NOT_OBJECT', '42'],
      ['SCHEMA', { v: 1, ts: new Date(now).toISOString(), seq: 1, odometer_km: 'far' }],
      ['MISSING_FIELD', { v: 1, seq: 1 }],
      ['MISSING_FIELD', { v: 1, ts: new Date(now).toISOString() }],
      ['UNKNOWN_VERSION', { v: 2, ts: new Date(now).toISOString(), seq: 1 }],
      ['OUT_OF_RANGE', { v: 1, ts: new Date(now).toISOString(), seq: 1, battery: { soc_pct: 140 } }],
      ['TS_IN_FUTURE', { v: 1, ts: new Date(now + 10 * 60_000).toISOString(), seq: 1 }],
      ['TS_TOO_OLD', { v: 1, ts: new Date(now - 400 * 86_400_000).toISOString(), seq: 1 }],
      ['TOO_MANY_SAMPLES', Array.from({ length: 1001 }, (_, i) => ({ v: 1, ts: now, seq: i }))],
      ['INVALID_UTF8', Uint8Array.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d])],
      ['PAYLOAD_TOO_LARGE', `[${'{"v":1},'.repeat(10_000)}{"v":1}]`],
      ['EMPTY_BATCH', '[]'],
      // The parser's message and an unknown key's name quote the payload, here a raw and an escaped U+0000, which a
      // text column cannot hold: the detail escapes it, so the dead letter keeps its reason (not STORAGE_REJECTED).
      ['MALFORMED_JSON', '{"v":1,"ts":\u0000}'],
      ['SCHEMA', `{"v":1,"ts":"${new Date(now).toISOString()}","seq":1,"battery":{"\\u0000":1}}`],
    ];
    // SPEC §4.3: every dead letter is counted in metrics, by reason (each case is one whole-message rejection).
    const countedBy = async (): Promise<Map<string, number>> =>
      new Map((await pipeline.metrics.deadLettered.get()).values.map((v) => [String(v.labels.reason), v.value]));
    const countedBefore = await countedBy();
    let seq = 100;
    for (const [, payload] of cases) {
      await within(pipeline.ingest(message('V-BAD', 'telemetry', payload)), 5_000, 'bad input');
      await within(pipeline.ingest(message('V-BAD', 'telemetry', ok(seq++))), 5_000, 'good input after bad');
    }
    await pipeline.ingest({ vehicleId: undefined, channel: undefined, topic: 'fleet/x/y/z', payload: Buffer.from('{}'), receivedAt: new Date() });
    // MQTT forbids U+0000 in a topic, but the dead letter must not rely on every broker refusing it.
    await pipeline.ingest({ vehicleId: undefined, channel: undefined, topic: 'fleet/x\u0000/telemetry', payload: Buffer.from('{}'), receivedAt: new Date() });
    await pipeline.ingest(message('V-BAD', 'events', '{"v":1,"kind":"alarm"}'));

    const dl = await test.db.selectFrom('dead_letters').select(['reason', 'topic', 'vehicle_id', 'raw', 'raw_size']).where((eb) => eb.or([eb('vehicle_id', '=', 'V-BAD'), eb('vehicle_id', 'is', null)])).orderBy('id').execute();
    const reasons = dl.map((d) => d.reason);
    expect(reasons.slice(0, cases.length)).toEqual(cases.map(([r]) => r));
    expect(reasons).toContain('UNKNOWN_TOPIC');
    expect(dl.map((d) => d.topic)).toContain('fleet/x\\u0000/telemetry');
    expect(dl.at(-1)).toMatchObject({ topic: 'fleet/V-BAD/events', vehicle_id: 'V-BAD' });
    const big = dl.find((d) => d.reason === 'PAYLOAD_TOO_LARGE')!;
    expect(big.raw!.byteLength).toBeLessThan(big.raw_size);
    const stored = await test.db.selectFrom('telemetry').select((eb) => eb.fn.countAll<number>().as('n')).where('vehicle_id', '=', 'V-BAD').executeTakeFirstOrThrow();
    expect(Number(stored.n)).toBe(cases.length);
    const countedAfter = await countedBy();
    // One count per dead letter this test wrote (the cases, the two bad topics, the event without ts and seq).
    const expected = new Map<string, number>();
    for (const d of dl) expected.set(d.reason, (expected.get(d.reason) ?? 0) + 1);
    expect([...expected.values()].reduce((a, n) => a + n, 0)).toBe(cases.length + 3);
    for (const [reason, n] of expected) expect((countedAfter.get(reason) ?? 0) - (countedBefore.get(reason) ?? 0), reason).toBe(n);
  });

  it('events set, raise and clear alarms and DTCs; a late event does not undo a newer one', async () => {
    const t = (s: number) => new Date(now - 600_000 + s * 1000).toISOString();
    await pipeline.ingest(message('V-ALARM', 'events', [
      { v: 1, ts: t(1), seq: 1, kind: 'alarm', code: 'BATTERY_HIGH_TEMP', level: 2, active: true },
      { v: 1, ts: t(2), seq: 2, kind: 'dtc', code: 'P0A80', active: true },
      { v: 1, ts: t(3), seq: 3, kind: 'alarm', code: 'H2_LEAK', level: 3, active: true },
    ]));
    await pipeline.ingest(message('V-ALARM', 'events', { v: 1, ts: t(5), seq: 5, kind: 'alarm', code: 'H2_LEAK', active: false }));
    await pipeline.ingest(message('V-ALARM', 'events', { v: 1, ts: t(4), seq: 4, kind: 'alarm', code: 'H2_LEAK', level: 3, active: true }));
    const s = await test.db.selectFrom('vehicle_state').selectAll().where('vehicle_id', '=', 'V-ALARM').executeTakeFirstOrThrow();
    expect(Object.keys(s.active_alarms)).toEqual(['BATTERY_HIGH_TEMP']);
    expect(s.alarm_max_level).toBe(2);
    expect(s.active_dtcs).toEqual(['P0A80']);
    const events = await test.db.selectFrom('events').select((eb) => eb.fn.countAll<number>().as('n')).where('vehicle_id', '=', 'V-ALARM').executeTakeFirstOrThrow();
    expect(Number(events.n)).toBe(5);

    // The same second (a coarse firmware clock): seq orders them, through what vehicle_state stores.
    await pipeline.ingest(message('V-ALARM', 'events', { v: 1, ts: t(9), seq: 11, kind: 'alarm', code: 'BATTERY_HIGH_TEMP', active: false }));
    await pipeline.ingest(message('V-ALARM', 'events', { v: 1, ts: t(9), seq: 10, kind: 'alarm', code: 'BATTERY_HIGH_TEMP', level: 2, active: true }));
    const tie = await test.db.selectFrom('vehicle_state').selectAll().where('vehicle_id', '=', 'V-ALARM').executeTakeFirstOrThrow();
    expect(tie.active_alarms).toEqual({});
    expect(tie.alarm_changed['alarm:BATTERY_HIGH_TEMP']).toEqual([Date.parse(t(9)), 11]);
  });
  it('status: sets connected and fw; a zero-byte retained clear is no dead letter; more than 1 KiB is PAYLOAD_TOO_LARGE', async () => {
    const state = () => test.db.selectFrom('vehicle_state').select(['connected', 'fw']).where('vehicle_id', '=', 'V-STATUS').executeTakeFirstOrThrow();
    await pipeline.ingest(message('V-STATUS', 'status', { v: 1, online: true, fw: '1.4.2' }));
    expect(await state()).toEqual({ connected: true, fw: '1.4.2' });
    await pipeline.ingest(message('V-STATUS', 'status', new Uint8Array(0)));
    await pipeline.ingest(message('V-STATUS', 'status', { v: 1, online: false, fw: `1.${'9'.repeat(2000)}` }));
    expect(await state()).toEqual({ connected: true, fw: '1.4.2' });
    const dl = await test.db.selectFrom('dead_letters').select(['reason']).where('vehicle_id', '=', 'V-STATUS').execute();
    expect(dl.map((d) => d.reason)).toEqual(['PAYLOAD_TOO_LARGE']);
  });

  it("the newest sample's dtc list is the active DTC set; a late sample or one without the list changes nothing", async () => {
    const t = (s: number) => now - 300_000 + s * 1000;
    const dtcState = () => test.db.selectFrom('vehicle_state').select(['active_dtcs', 'alarms_changed_at', 'last_seq']).where('vehicle_id', '=', 'V-DTC').executeTakeFirstOrThrow();
    const send = (seq: number, dtc?: string[]) => pipeline.ingest(message('V-DTC', 'telemetry', sample({ tsMs: t(seq), seq, extra: dtc ? { dtc } : {} })));

    await send(1, ['P2', 'P1', 'P1']);
    const first = await dtcState();
    expect(first.active_dtcs).toEqual(['P1', 'P2']);
    expect(first.alarms_changed_at).not.toBeNull();
    await send(2, ['P1', 'P2']); // the same set: not a change
    expect(await dtcState()).toMatchObject({ active_dtcs: ['P1', 'P2'], alarms_changed_at: first.alarms_changed_at, last_seq: 2 });
    await send(0, ['P9']); // late
    await send(3); // no list in the sample
    expect(await dtcState()).toMatchObject({ active_dtcs: ['P1', 'P2'], alarms_changed_at: first.alarms_changed_at, last_seq: 3 });
    // A dtc event older than the newest list (the complete set at its time) does not bring a code back.
    await pipeline.ingest(message('V-DTC', 'events', { v: 1, ts: new Date(t(1) + 500).toISOString(), seq: 50, kind: 'dtc', code: 'P7', active: true }));
    expect((await dtcState()).active_dtcs).toEqual(['P1', 'P2']);
    await send(4, []);
    await pipeline.ingest(message('V-DTC', 'events', { v: 1, ts: new Date(t(3)).toISOString(), seq: 51, kind: 'dtc', code: 'P1', active: true }));
    const cleared = await dtcState();
    expect(cleared.active_dtcs).toEqual([]);
    expect(cleared.alarms_changed_at!.getTime()).toBeGreaterThanOrEqual(first.alarms_changed_at!.getTime());
    expect(cleared.last_seq).toBe(4);
  });
});
