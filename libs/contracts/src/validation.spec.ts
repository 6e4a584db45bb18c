import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KNOWN_ALARM_CODES, isKnownAlarmCode, vehicleEventJsonSchema } from './event.schema.js';
import { statusMessageJsonSchema } from './status.schema.js';
import { telemetrySampleJsonSchema } from './telemetry.schema.js';
import {
  DEFAULT_DECODE_LIMITS,
  REJECT_REASONS,
  decodeEvents,
  decodeStatus,
  decodeTelemetry,
  isRejectReason,
  unknownTopicRejection,
  type DecodeContext,
  type RejectReason,
} from './validation.js';

// SPEC §3, verbatim.
const SPEC_TELEMETRY = `{
  "v": 1,
  "ts": "2026-11-26T08:00:00.000Z",
  "seq": 1042,
  "position": { "lat": 31.6902, "lon": 113.3824, "alt_m": 96.5, "heading_deg": 270, "speed_kmh": 32.5 },
  "odometer_km": 15234.2,
  "state": "working",
  "battery":  { "soc_pct": 78.5, "voltage_v": 614.2, "current_a": 32.1, "temp_max_c": 31.0, "temp_min_c": 24.5,
                "cell_v_max": 3.412, "cell_v_min": 3.398, "soh_pct": 96.0 },
  "hydrogen": { "mass_kg": 12.4, "pressure_mpa": 31.5, "fc_power_kw": 42.0, "fc_temp_c": 68.0 },
  "fuel":     { "level_pct": 64.0, "rate_lph": 18.2, "engine_rpm": 1450, "coolant_c": 88.0 },
  "energy":   { "traction_kwh": 18234.5, "body_kwh": 4210.2, "regen_kwh": 2100.3, "charged_kwh": 24100.0,
                "h2_used_kg": 1520.3, "fuel_used_l": 0, "engine_hours": 0 },
  "body":     { "type": "sweeper", "active": true, "power_kw": 18.5, "hours": 2210.4,
                "signals": { "brush_rpm": 120, "water_l": 1800 } },
  "dtc": ["P0A80", "SPN520-FMI3"]
}`;
const SPEC_EVENT = `{ "v": 1, "ts": "2026-11-26T08:00:01Z", "seq": 77, "kind": "alarm", "code": "BATTERY_HIGH_TEMP",
  "level": 3, "active": true, "message": "pack 62 °C", "data": { "temp_max_c": 62 } }`;
const SPEC_STATUS_OFFLINE = `{"v":1,"online":false}`;
const SPEC_STATUS_ONLINE = `{"v":1,"online":true,"fw":"1.4.2"}`;

const TS = '2026-11-26T08:00:00.000Z';
const TS_MS = Date.UTC(2026, 10, 26, 8, 0, 0);
const NOW = TS_MS + 60_000;
const ctx: DecodeContext = { ...DEFAULT_DECODE_LIMITS, nowMs: NOW };

const enc = (value: unknown): Uint8Array => new TextEncoder().encode(typeof value === 'string' ? value : JSON.stringify(value));
const minimal = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ v: 1, ts: TS, seq: 1, ...extra });
const full = (): Record<string, unknown> => JSON.parse(SPEC_TELEMETRY) as Record<string, unknown>;

/** Decodes one telemetry element and returns its single rejection (fails the test if it was accepted). */
function rejectionOf(payload: unknown, context: DecodeContext = ctx) {
  const result = decodeTelemetry(enc(payload), context);
  expect(result.accepted).toEqual([]);
  expect(result.rejected).toHaveLength(1);
  return result.rejected[0]!;
}

function reasonOf(payload: unknown, context: DecodeContext = ctx): RejectReason {
  return rejectionOf(payload, context).reason;
}

describe('valid payloads', () => {
  it('accepts the SPEC §3 telemetry example verbatim', () => {
    const result = decodeTelemetry(enc(SPEC_TELEMETRY), ctx);
    expect(result.rejected).toEqual([]);
    expect(result.accepted).toEqual([{ sample: JSON.parse(SPEC_TELEMETRY), tsMs: TS_MS, index: 0 }]);
  });

  it('accepts the SPEC §3 event example verbatim', () => {
    const result = decodeEvents(enc(SPEC_EVENT), ctx);
    expect(result.rejected).toEqual([]);
    expect(result.accepted).toEqual([{ event: JSON.parse(SPEC_EVENT), tsMs: TS_MS + 1000, index: 0 }]);
  });

  it('accepts the SPEC §3 status examples verbatim', () => {
    expect(decodeStatus(enc(SPEC_STATUS_OFFLINE))).toEqual({ ok: true, status: { v: 1, online: false } });
    expect(decodeStatus(enc(SPEC_STATUS_ONLINE))).toEqual({ ok: true, status: { v: 1, online: true, fw: '1.4.2' } });
  });

  it('accepts a sample, an event and a status without v as v1 (SPEC §3: only ts and seq are required)', () => {
    expect(decodeTelemetry(enc({ ts: TS, seq: 1, battery: { soc_pct: 80 } }), ctx)).toMatchObject({ rejected: [], accepted: [{ tsMs: TS_MS }] });
    expect(decodeEvents(enc({ ts: TS, seq: 2, kind: 'alarm', code: 'SOC_LOW', level: 1 }), ctx).rejected).toEqual([]);
    expect(decodeStatus(enc({ online: true })).ok).toBe(true);
  });

  it('accepts a minimal sample (only v, ts, seq)', () => {
    expect(decodeTelemetry(enc(minimal()), ctx)).toEqual({ accepted: [{ sample: minimal(), tsMs: TS_MS, index: 0 }], rejected: [] });
  });

  it('accepts epoch-ms and offset ISO timestamps, normalised to epoch ms', () => {
    expect(decodeTelemetry(enc(minimal({ ts: TS_MS })), ctx).accepted[0]?.tsMs).toBe(TS_MS);
    expect(decodeTelemetry(enc(minimal({ ts: '2026-11-26T16:00:00+08:00' })), ctx).accepted[0]?.tsMs).toBe(TS_MS);
    expect(decodeTelemetry(enc(minimal({ ts: '2026-11-26T08:00:00Z' })), ctx).accepted[0]?.tsMs).toBe(TS_MS);
  });

  it('accepts a Node Buffer payload', () => {
    expect(decodeTelemetry(Buffer.from(SPEC_TELEMETRY), ctx).accepted).toHaveLength(1);
  });

  it('accepts every state, body type and the edges of the counts', () => {
    for (const state of ['off', 'idle', 'driving', 'working', 'charging', 'refuelling']) {
      expect(decodeTelemetry(enc(minimal({ state })), ctx).accepted).toHaveLength(1);
    }
    for (const type of ['sweeper', 'compactor', 'sprinkler', 'reefer', 'pump', 'ladder', 'medical', 'tanker', 'none']) {
      expect(decodeTelemetry(enc(minimal({ body: { type } })), ctx).accepted).toHaveLength(1);
    }
    const signals = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`s${i}`, i % 3 === 0 ? i : i % 3 === 1 ? `v${i}` : true]));
    expect(decodeTelemetry(enc(minimal({ body: { type: 'pump', signals } })), ctx).accepted).toHaveLength(1);
    expect(decodeTelemetry(enc(minimal({ dtc: Array.from({ length: 64 }, () => 'P0A80') })), ctx).accepted).toHaveLength(1);
    expect(decodeTelemetry(enc(minimal({ dtc: [] })), ctx).accepted).toHaveLength(1);
    // SPEC §3: OBD-II, J1939 or OEM codes, as the dtc events accept them (one active DTC set takes both).
    expect(decodeTelemetry(enc(minimal({ dtc: ['BMS_ERR_12', 'SPN520-FMI3', `X${'Y'.repeat(63)}`] })), ctx).accepted).toHaveLength(1);
    expect(decodeEvents(enc({ v: 1, ts: TS, seq: 1, kind: 'dtc', code: 'BMS_ERR_12' }), ctx).accepted).toHaveLength(1);
    expect(decodeTelemetry(enc(minimal({ seq: 0 })), ctx).accepted).toHaveLength(1);
    expect(decodeTelemetry(enc(minimal({ seq: 4294967295 })), ctx).accepted).toHaveLength(1);
  });

  it('accepts `v` written as 1.0 (JSON does not distinguish it from 1)', () => {
    expect(decodeTelemetry(enc('{"v":1.0,"ts":1795680000000,"seq":1}'), ctx).accepted).toHaveLength(1);
  });
});

describe('batches (store-and-forward backlog)', () => {
  it('accepts an array, keeping each element index', () => {
    const batch = [minimal({ seq: 1 }), minimal({ seq: 2, ts: TS_MS - 1000 }), full()];
    const result = decodeTelemetry(enc(batch), ctx);
    expect(result.rejected).toEqual([]);
    expect(result.accepted.map((a) => [a.index, a.tsMs, a.sample.seq])).toEqual([
      [0, TS_MS, 1],
      [1, TS_MS - 1000, 2],
      [2, TS_MS, 1042],
    ]);
  });

  it('judges each element alone: one bad sample does not lose the others', () => {
    const batch = Array.from({ length: 1000 }, (_, i) => minimal({ seq: i }));
    batch[500] = minimal({ seq: 500, battery: { soc_pct: 140 } });
    const result = decodeTelemetry(enc(batch), ctx);
    expect(result.accepted).toHaveLength(999);
    expect(result.accepted.some((a) => a.index === 500)).toBe(false);
    expect(result.rejected).toEqual([{ reason: 'OUT_OF_RANGE', detail: 'battery.soc_pct: 140 > 100', index: 500 }]);
  });

  it('gives each bad element its own reason and index', () => {
    const batch = [minimal(), 7, minimal({ v: 2 }), minimal({ ts: 'yesterday' }), minimal({ ts: NOW + 3_600_000 }), minimal({ seq: 2 })];
    const result = decodeTelemetry(enc(batch), ctx);
    expect(result.accepted.map((a) => a.index)).toEqual([0, 5]);
    expect(result.rejected.map((r) => [r.index, r.reason])).toEqual([
      [1, 'NOT_OBJECT'],
      [2, 'UNKNOWN_VERSION'],
      [3, 'INVALID_TS'],
      [4, 'TS_IN_FUTURE'],
    ]);
  });

  it('accepts exactly maxSamples elements and refuses one more as a whole', () => {
    const at = Array.from({ length: 1000 }, (_, i) => minimal({ seq: i }));
    expect(decodeTelemetry(enc(at), ctx).accepted).toHaveLength(1000);
    expect(decodeTelemetry(enc([...at, minimal()]), ctx)).toEqual({
      accepted: [],
      rejected: [{ reason: 'TOO_MANY_SAMPLES', detail: 'payload: 1001 elements > 1000' }],
    });
  });

  it('omits index for a single-object payload and for whole-message rejections', () => {
    expect(rejectionOf(minimal({ seq: -1 }))).not.toHaveProperty('index');
    expect(decodeTelemetry(enc([]), ctx).rejected[0]).not.toHaveProperty('index');
  });
});

describe('whole-message rejections', () => {
  it.each<[string, Uint8Array, RejectReason]>([
    ['invalid UTF-8 byte', new Uint8Array([0x7b, 0xff, 0x7d]), 'INVALID_UTF8'],
    ['truncated multi-byte sequence', new Uint8Array([0x22, 0xe6, 0x88, 0x22]), 'INVALID_UTF8'],
    ['encoded surrogate', new Uint8Array([0x22, 0xed, 0xa0, 0x80, 0x22]), 'INVALID_UTF8'],
    ['overlong encoding', new Uint8Array([0x22, 0xc0, 0xaf, 0x22]), 'INVALID_UTF8'],
    ['truncated JSON', enc('{"v":1,"ts":'), 'MALFORMED_JSON'],
    ['empty payload', new Uint8Array(0), 'MALFORMED_JSON'],
    ['NaN literal', enc('{"v":1,"ts":1,"seq":NaN}'), 'MALFORMED_JSON'],
    ['single quotes', enc("{'v':1}"), 'MALFORMED_JSON'],
    ['trailing comma', enc('{"v":1,}'), 'MALFORMED_JSON'],
    ['two documents', enc('{"v":1}{"v":1}'), 'MALFORMED_JSON'],
    ['number', enc('42'), 'NOT_OBJECT'],
    ['string', enc('"hello"'), 'NOT_OBJECT'],
    ['null', enc('null'), 'NOT_OBJECT'],
    ['boolean', enc('true'), 'NOT_OBJECT'],
    ['empty array', enc('[]'), 'EMPTY_BATCH'],
  ])('%s → %s', (_name, payload, reason) => {
    const result = decodeTelemetry(payload, ctx);
    expect(result.accepted).toEqual([]);
    expect(result.rejected).toHaveLength(1);
    expect(result.rejected[0]?.reason).toBe(reason);
  });

  it('PAYLOAD_TOO_LARGE above maxBytes, before decoding; exactly maxBytes is fine', () => {
    const payload = enc(minimal());
    expect(decodeTelemetry(payload, { ...ctx, maxBytes: payload.byteLength }).accepted).toHaveLength(1);
    expect(decodeTelemetry(payload, { ...ctx, maxBytes: payload.byteLength - 1 }).rejected).toEqual([
      { reason: 'PAYLOAD_TOO_LARGE', detail: `payload: ${payload.byteLength} bytes > ${payload.byteLength - 1}` },
    ]);
    // Garbage that is too large is still PAYLOAD_TOO_LARGE (the size check comes first).
    expect(decodeTelemetry(new Uint8Array(300 * 1024).fill(0xff), ctx).rejected[0]?.reason).toBe('PAYLOAD_TOO_LARGE');
  });

  it('TOO_MANY_SAMPLES honours ctx.maxSamples', () => {
    expect(decodeTelemetry(enc([minimal(), minimal()]), { ...ctx, maxSamples: 1 }).rejected[0]?.reason).toBe('TOO_MANY_SAMPLES');
  });
});

describe('per-element rejections', () => {
  it.each<[string, unknown]>([
    ['null element', [null]],
    ['number element', [1]],
    ['string element', ['x']],
    ['nested array', [[minimal()]]],
  ])('NOT_OBJECT: %s', (_name, payload) => {
    const result = decodeTelemetry(enc(payload), ctx);
    expect(result.rejected).toEqual([{ reason: 'NOT_OBJECT', detail: expect.stringContaining('element') as unknown, index: 0 }]);
  });

  it.each<[string, unknown, string]>([
    ['v 2', minimal({ v: 2 }), 'v: 2 (supported: 1)'],
    ['v 0', minimal({ v: 0 }), 'v: 0 (supported: 1)'],
    ['v as string', minimal({ v: '1' }), 'v: "1" (supported: 1)'],
    ['v null', minimal({ v: null }), 'v: null (supported: 1)'],
  ])('UNKNOWN_VERSION: %s', (_name, payload, detail) => {
    expect(rejectionOf(payload)).toEqual({ reason: 'UNKNOWN_VERSION', detail });
  });

  it('MISSING_FIELD: ts or seq absent', () => {
    expect(rejectionOf({ v: 1, seq: 1 })).toEqual({ reason: 'MISSING_FIELD', detail: 'ts: missing' });
    expect(rejectionOf({ v: 1, ts: TS })).toEqual({ reason: 'MISSING_FIELD', detail: 'seq: missing' });
    expect(rejectionOf({ v: 1 })).toEqual({ reason: 'MISSING_FIELD', detail: 'ts: missing' });
  });

  it.each<[string, unknown]>([
    ['unparsable string', 'yesterday'],
    ['no offset', '2026-11-26T08:00:00'],
    ['impossible date', '2026-02-30T08:00:00Z'],
    ['epoch ms as string', '1795680000000'],
    ['fractional epoch', 1795680000000.5],
    ['negative epoch', -1],
    ['boolean', true],
    ['null', null],
    ['object', { ms: 1 }],
  ])('INVALID_TS: %s', (_name, ts) => {
    expect(reasonOf(minimal({ ts }))).toBe('INVALID_TS');
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['unknown top-level property', { colour: 'red' }, 'colour: unknown property'],
    ['unknown nested property', { battery: { soc_pct: 50, soc: 50 } }, 'battery.soc: unknown property'],
    ['__proto__ key', JSON.parse('{"__proto__":{"polluted":true}}') as Record<string, unknown>, '__proto__: unknown property'],
    ['number as string', { battery: { soc_pct: '78.5' } }, 'battery.soc_pct: expected number, got string'],
    ['block as array', { battery: [] }, 'battery: expected object, got array'],
    ['block as null', { fuel: null }, 'fuel: expected object, got null'],
    ['seq not an integer', { seq: 1.5 }, 'seq: 1.5 is not an integer'],
    ['seq as string', { seq: '1' }, 'seq: expected integer, got string'],
    ['unknown state', { state: 'flying' }, 'state: "flying" is not one of off|idle|driving|working|charging|refuelling'],
    ['unknown body type', { body: { type: 'crane' } }, 'body.type: "crane" is not one of sweeper|compactor|sprinkler|reefer|pump|ladder|medical|tanker|none'],
    ['body without type', { body: { active: true } }, 'body.type: missing'],
    ['position without lat', { position: { lon: 113.3 } }, 'position.lat: missing'],
    ['active as number', { body: { type: 'pump', active: 1 } }, 'body.active: expected boolean, got number'],
    ['lower-case dtc', { dtc: ['p0a80'] }, 'dtc[0]: "p0a80" does not match ^[A-Z0-9][A-Z0-9_-]{1,63}$'],
    ['one-character dtc', { dtc: ['P'] }, 'dtc[0]: "P" does not match ^[A-Z0-9][A-Z0-9_-]{1,63}$'],
    ['dtc not an array', { dtc: 'P0A80' }, 'dtc: expected array, got string'],
    ['65 dtcs', { dtc: Array.from({ length: 65 }, () => 'P0A80') }, 'dtc: 65 items > 64'],
    ['signal as object', { body: { type: 'pump', signals: { a: { b: 1 } } } }, 'body.signals.a: expected number|string|boolean, got object'],
    ['signal as null', { body: { type: 'pump', signals: { a: null } } }, 'body.signals.a: expected number|string|boolean, got null'],
    [
      '65 signals',
      { body: { type: 'pump', signals: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`s${i}`, i])) } },
      'body.signals: 65 keys > 64',
    ],
  ])('SCHEMA: %s', (_name, extra, detail) => {
    expect(rejectionOf(minimal(extra))).toEqual({ reason: 'SCHEMA', detail });
  });

  it('SCHEMA wins over OUT_OF_RANGE when a sample has both', () => {
    expect(reasonOf(minimal({ battery: { soc_pct: 140 }, state: 5 }))).toBe('SCHEMA');
    expect(reasonOf(minimal({ position: { lat: 91, lon: 'east' } }))).toBe('SCHEMA');
    // Many range errors first, a wrong type last.
    const battery = { soc_pct: 101, voltage_v: -1, current_a: 4000, temp_max_c: 300, temp_min_c: -100, cell_v_max: 11, cell_v_min: -1, soh_pct: 101 };
    expect(reasonOf(minimal({ battery, position: { lat: 91, lon: 181 }, fuel: { level_pct: 'full' } }))).toBe('SCHEMA');
    expect(reasonOf(minimal({ battery, position: { lat: 91, lon: 181 } }))).toBe('OUT_OF_RANGE');
  });

  // [path, lowest accepted, highest accepted]; undefined = unbounded on that side.
  const RANGES: [string, number | undefined, number | undefined][] = [
    ['seq', 0, 4294967295],
    ['position.lat', -90, 90],
    ['position.lon', -180, 180],
    ['position.alt_m', -500, 9000],
    ['position.heading_deg', 0, 360],
    ['position.speed_kmh', 0, 400],
    ['odometer_km', 0, undefined],
    ['battery.soc_pct', 0, 100],
    ['battery.voltage_v', 0, 2000],
    ['battery.current_a', -3000, 3000],
    ['battery.temp_max_c', -60, 250],
    ['battery.temp_min_c', -60, 250],
    ['battery.cell_v_max', 0, 10],
    ['battery.cell_v_min', 0, 10],
    ['battery.soh_pct', 0, 100],
    ['hydrogen.mass_kg', 0, 1000],
    ['hydrogen.pressure_mpa', 0, 100],
    ['hydrogen.fc_power_kw', 0, 1000],
    ['hydrogen.fc_temp_c', -60, 250],
    ['fuel.level_pct', 0, 100],
    ['fuel.rate_lph', 0, 1000],
    ['fuel.engine_rpm', 0, 10000],
    ['fuel.coolant_c', -60, 250],
    ['energy.traction_kwh', 0, undefined],
    ['energy.body_kwh', 0, undefined],
    ['energy.regen_kwh', 0, undefined],
    ['energy.charged_kwh', 0, undefined],
    ['energy.h2_used_kg', 0, undefined],
    ['energy.fuel_used_l', 0, undefined],
    ['energy.engine_hours', 0, undefined],
    ['body.power_kw', -1000, 1000],
    ['body.hours', 0, undefined],
  ];

  /** The SPEC example with one field set to `value`. */
  function withField(path: string, value: number): Record<string, unknown> {
    const sample = full();
    const [block, field] = path.split('.');
    if (field === undefined) sample[block!] = value;
    else (sample[block!] as Record<string, unknown>)[field] = value;
    return sample;
  }

  it.each(RANGES)('OUT_OF_RANGE: %s outside [%s, %s], bounds themselves accepted', (path, min, max) => {
    for (const edge of [min, max]) {
      if (edge !== undefined) expect(decodeTelemetry(enc(withField(path, edge)), ctx).accepted).toHaveLength(1);
    }
    if (min !== undefined) {
      const below = path === 'seq' ? min - 1 : min - 0.001;
      expect(rejectionOf(withField(path, below))).toEqual({ reason: 'OUT_OF_RANGE', detail: `${path}: ${below} < ${min}` });
    }
    if (max !== undefined) {
      const above = path === 'seq' ? max + 1 : max + 0.001;
      expect(rejectionOf(withField(path, above))).toEqual({ reason: 'OUT_OF_RANGE', detail: `${path}: ${above} > ${max}` });
    }
  });

  it('OUT_OF_RANGE: a number too large for a double (1e999 parses to Infinity)', () => {
    expect(rejectionOf('{"v":1,"ts":1795680000000,"seq":1,"energy":{"traction_kwh":1e999}}')).toEqual({
      reason: 'OUT_OF_RANGE',
      detail: 'energy.traction_kwh: not a finite number',
    });
  });

  it('names the bound a union value broke, not the branches it did not take', () => {
    const long = 'x'.repeat(257);
    expect(rejectionOf(minimal({ body: { type: 'sweeper', signals: { mode: long } } }))).toEqual({ reason: 'SCHEMA', detail: 'body.signals.mode: 257 characters > 256' });
    // A value no branch takes still names the accepted types.
    expect(rejectionOf(minimal({ body: { type: 'sweeper', signals: { mode: [1] } } }))).toEqual({ reason: 'SCHEMA', detail: 'body.signals.mode: expected number|string|boolean, got array' });
  });

  it('the names the field in the detail: battery.soc_pct: 140 > 100', () => {
    expect(rejectionOf(minimal({ battery: { soc_pct: 140 } }))).toEqual({ reason: 'OUT_OF_RANGE', detail: 'battery.soc_pct: 140 > 100' });
  });
});

describe('time window', () => {
  const window: DecodeContext = { ...ctx, nowMs: NOW, maxFutureMs: 300_000, maxAgeMs: 86_400_000 };

  it('accepts both edges and refuses one millisecond beyond', () => {
    expect(decodeTelemetry(enc(minimal({ ts: NOW + 300_000 })), window).accepted).toHaveLength(1);
    expect(decodeTelemetry(enc(minimal({ ts: NOW - 86_400_000 })), window).accepted).toHaveLength(1);
    expect(reasonOf(minimal({ ts: NOW + 300_001 }), window)).toBe('TS_IN_FUTURE');
    expect(reasonOf(minimal({ ts: NOW - 86_400_001 }), window)).toBe('TS_TOO_OLD');
  });

  it('applies to ISO timestamps the same way', () => {
    expect(decodeTelemetry(enc(minimal({ ts: new Date(NOW + 300_000).toISOString() })), window).accepted).toHaveLength(1);
    expect(rejectionOf(minimal({ ts: new Date(NOW + 300_001).toISOString() }), window)).toEqual({
      reason: 'TS_IN_FUTURE',
      detail: `ts: ${new Date(NOW + 300_001).toISOString()} is 300 s ahead (max 300 s)`,
    });
    expect(rejectionOf(minimal({ ts: '2026-11-24T08:01:00Z' }), window)).toEqual({
      reason: 'TS_TOO_OLD',
      detail: 'ts: 2026-11-24T08:01:00.000Z is 172800 s old (max 86400 s)',
    });
  });

  it('refuses epoch seconds sent by mistake as too old, not as a valid 1970 sample', () => {
    expect(reasonOf(minimal({ ts: Math.floor(NOW / 1000) }), window)).toBe('TS_TOO_OLD');
  });
});

describe('check order', () => {
  it.each<[string, unknown, RejectReason]>([
    ['v wrong and ts missing → UNKNOWN_VERSION', { v: 2, seq: 1 }, 'UNKNOWN_VERSION'],
    ['ts missing and unknown property → MISSING_FIELD', { v: 1, seq: 1, extra: 1 }, 'MISSING_FIELD'],
    ['seq missing and invalid ts → MISSING_FIELD', { v: 1, ts: 'nope' }, 'MISSING_FIELD'],
    ['invalid ts and schema error → INVALID_TS', minimal({ ts: 'nope', state: 'flying' }), 'INVALID_TS'],
    ['schema error and ts in the future → SCHEMA', minimal({ ts: NOW + 86_400_000, state: 'flying' }), 'SCHEMA'],
    ['out of range and ts too old → OUT_OF_RANGE', minimal({ ts: 1, battery: { soc_pct: -1 } }), 'OUT_OF_RANGE'],
  ])('%s', (_name, payload, reason) => {
    expect(reasonOf(payload)).toBe(reason);
  });
});

describe('events', () => {
  const event = (extra: Record<string, unknown> = {}): Record<string, unknown> => ({ ...(JSON.parse(SPEC_EVENT) as object), ...extra });
  const eventReason = (payload: unknown): RejectReason | undefined => {
    const result = decodeEvents(enc(payload), ctx);
    expect(result.accepted).toEqual([]);
    return result.rejected[0]?.reason;
  };

  it('accepts every kind, DTC-style codes and events without level', () => {
    for (const kind of ['alarm', 'dtc', 'state', 'incident']) expect(decodeEvents(enc(event({ kind })), ctx).accepted).toHaveLength(1);
    expect(decodeEvents(enc(event({ kind: 'dtc', code: 'SPN520-FMI3', level: undefined })), ctx).accepted).toHaveLength(1);
    expect(decodeEvents(enc(event({ code: 'OEM_CUSTOM_42' })), ctx).accepted).toHaveLength(1);
    expect(decodeEvents(enc({ v: 1, ts: TS, seq: 1, kind: 'state', code: 'WORKING' }), ctx).accepted).toHaveLength(1);
  });

  it.each<[string, Record<string, unknown>, RejectReason]>([
    ['level 0', { level: 0 }, 'OUT_OF_RANGE'],
    ['level 4', { level: 4 }, 'OUT_OF_RANGE'],
    ['level 2.5', { level: 2.5 }, 'SCHEMA'],
    ['unknown kind', { kind: 'warning' }, 'SCHEMA'],
    ['lower-case code', { code: 'battery_high_temp' }, 'SCHEMA'],
    ['code with a space', { code: 'BATTERY HIGH' }, 'SCHEMA'],
    ['unknown property', { severity: 3 }, 'SCHEMA'],
    ['nested data', { data: { a: { b: 1 } } }, 'SCHEMA'],
    ['v 2', { v: 2 }, 'UNKNOWN_VERSION'],
    ['seq missing', { seq: undefined }, 'MISSING_FIELD'],
    ['bad ts', { ts: 'now' }, 'INVALID_TS'],
    ['ts in the future', { ts: NOW + 3_600_000 }, 'TS_IN_FUTURE'],
    ['ts too old', { ts: 0 }, 'TS_TOO_OLD'],
  ])('%s → %s', (_name, extra, reason) => {
    expect(eventReason(event(extra))).toBe(reason);
  });

  it('requires kind and code', () => {
    expect(decodeEvents(enc({ v: 1, ts: TS, seq: 1, code: 'X' }), ctx).rejected).toEqual([{ reason: 'SCHEMA', detail: 'kind: missing' }]);
    expect(decodeEvents(enc({ v: 1, ts: TS, seq: 1, kind: 'alarm' }), ctx).rejected).toEqual([{ reason: 'SCHEMA', detail: 'code: missing' }]);
  });

  it('judges an event batch per element', () => {
    const result = decodeEvents(enc([event(), event({ level: 9 }), event({ seq: 78 })]), ctx);
    expect(result.accepted.map((a) => a.index)).toEqual([0, 2]);
    expect(result.rejected).toEqual([{ reason: 'OUT_OF_RANGE', detail: 'level: 9 > 3', index: 1 }]);
  });

  it('lists the known alarm codes of SPEC §3', () => {
    expect(KNOWN_ALARM_CODES).toContain('BATTERY_HIGH_TEMP');
    expect(KNOWN_ALARM_CODES).toContain('THERMAL_EVENT');
    expect(KNOWN_ALARM_CODES).toContain('H2_LEAK');
    expect(KNOWN_ALARM_CODES).toContain('ROLLOVER_RISK');
    expect(KNOWN_ALARM_CODES).toHaveLength(26);
    expect(isKnownAlarmCode('TANK_TEMP')).toBe(true);
    expect(isKnownAlarmCode('OEM_CUSTOM_42')).toBe(false);
    for (const code of KNOWN_ALARM_CODES) expect(code).toMatch(/^[A-Z][A-Z0-9_]{0,63}$/);
  });
});

describe('status', () => {
  it.each<[string, Uint8Array, RejectReason]>([
    ['online missing', enc({ v: 1 }), 'SCHEMA'],
    ['online as string', enc({ v: 1, online: 'yes' }), 'SCHEMA'],
    ['unknown property', enc({ v: 1, online: true, ip: '10.0.0.1' }), 'SCHEMA'],
    ['empty fw', enc({ v: 1, online: true, fw: '' }), 'SCHEMA'],
    ['v 2', enc({ v: 2, online: true }), 'UNKNOWN_VERSION'],
    ['array', enc([{ v: 1, online: true }]), 'NOT_OBJECT'],
    ['empty payload (retained message cleared)', new Uint8Array(0), 'MALFORMED_JSON'],
    ['invalid UTF-8', new Uint8Array([0xc3, 0x28]), 'INVALID_UTF8'],
    ['too large', enc({ v: 1, online: true, fw: 'x'.repeat(2000) }), 'PAYLOAD_TOO_LARGE'],
  ])('%s → %s', (_name, payload, reason) => {
    const result = decodeStatus(payload);
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.rejection.reason).toBe(reason);
  });
});

describe('reason codes', () => {
  it('are stable strings', () => {
    expect(REJECT_REASONS).toEqual([
      'INVALID_UTF8',
      'MALFORMED_JSON',
      'NOT_OBJECT',
      'EMPTY_BATCH',
      'TOO_MANY_SAMPLES',
      'PAYLOAD_TOO_LARGE',
      'UNKNOWN_VERSION',
      'MISSING_FIELD',
      'INVALID_TS',
      'SCHEMA',
      'OUT_OF_RANGE',
      'TS_IN_FUTURE',
      'TS_TOO_OLD',
      'UNKNOWN_TOPIC',
      'NOT_AUTHORIZED',
      'STORAGE_REJECTED',
    ]);
    expect(isRejectReason('SCHEMA')).toBe(true);
    expect(isRejectReason('schema')).toBe(false);
  });

  it('UNKNOWN_TOPIC names the topic, truncated', () => {
    expect(unknownTopicRejection('fleet/a/b/telemetry')).toEqual({
      reason: 'UNKNOWN_TOPIC',
      detail: 'topic: "fleet/a/b/telemetry" is not fleet/{vehicle id}/{telemetry|events|status|cmd|cmd/ack}',
    });
    expect(unknownTopicRejection('x'.repeat(10_000)).detail.length).toBeLessThan(200);
  });

  it('every decoder reason has a trigger (NOT_AUTHORIZED is the broker’s, STORAGE_REJECTED ingestion’s)', () => {
    const triggers: [RejectReason, () => RejectReason | undefined][] = [
      ['INVALID_UTF8', () => decodeTelemetry(new Uint8Array([0xff]), ctx).rejected[0]?.reason],
      ['MALFORMED_JSON', () => decodeTelemetry(enc('{'), ctx).rejected[0]?.reason],
      ['NOT_OBJECT', () => decodeTelemetry(enc('1'), ctx).rejected[0]?.reason],
      ['EMPTY_BATCH', () => decodeTelemetry(enc('[]'), ctx).rejected[0]?.reason],
      ['TOO_MANY_SAMPLES', () => decodeTelemetry(enc([minimal(), minimal()]), { ...ctx, maxSamples: 1 }).rejected[0]?.reason],
      ['PAYLOAD_TOO_LARGE', () => decodeTelemetry(enc(minimal()), { ...ctx, maxBytes: 10 }).rejected[0]?.reason],
      ['UNKNOWN_VERSION', () => reasonOf(minimal({ v: 2 }))],
      ['MISSING_FIELD', () => reasonOf({ v: 1, ts: TS })],
      ['INVALID_TS', () => reasonOf(minimal({ ts: 'x' }))],
      ['SCHEMA', () => reasonOf(minimal({ x: 1 }))],
      ['OUT_OF_RANGE', () => reasonOf(minimal({ seq: -1 }))],
      ['TS_IN_FUTURE', () => reasonOf(minimal({ ts: NOW + 3_600_000 }))],
      ['TS_TOO_OLD', () => reasonOf(minimal({ ts: 0 }))],
      ['UNKNOWN_TOPIC', () => unknownTopicRejection('a/b').reason],
    ];
    for (const [reason, trigger] of triggers) expect(trigger(), reason).toBe(reason);
    expect(new Set([...triggers.map(([r]) => r), 'NOT_AUTHORIZED', 'STORAGE_REJECTED'])).toEqual(new Set(REJECT_REASONS));
  });
});

describe('robustness', () => {
  it('never throws and always answers with known reasons, whatever the bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 512 }), (bytes) => {
        const result = decodeTelemetry(bytes, ctx);
        for (const r of result.rejected) expect(isRejectReason(r.reason)).toBe(true);
        expect(result.accepted.length + result.rejected.length).toBeGreaterThan(0);
        const status = decodeStatus(bytes);
        if (!status.ok) expect(isRejectReason(status.rejection.reason)).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on arbitrary JSON values, as samples or events', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const payload = enc(JSON.stringify(value) ?? 'null');
        for (const result of [decodeTelemetry(payload, ctx), decodeEvents(payload, ctx)]) {
          for (const r of result.rejected) {
            expect(isRejectReason(r.reason)).toBe(true);
            expect(r.detail.length).toBeLessThanOrEqual(200);
          }
        }
      }),
      { numRuns: 500 },
    );
  });

  it('does not mutate or pollute: rejected __proto__ leaves Object.prototype alone', () => {
    decodeTelemetry(enc('{"v":1,"ts":1795680000000,"seq":1,"__proto__":{"polluted":true}}'), ctx);
    expect(({} as Record<string, unknown>)['polluted']).toBeUndefined();
  });
});

describe('strings PostgreSQL cannot store', () => {
  // JSON writes U+0000 and unpaired surrogates as escapes; jsonb refuses both, text refuses U+0000 and would store an
  // unpaired surrogate as U+FFFD. Refused per element, the rest of a backlog is stored.
  const nul = '"a\\u0000b"';
  const lone = '"pack \\ud83d"';

  it('refuses the element that holds one (value or key, any depth) and keeps its siblings', () => {
    const good = JSON.stringify(minimal({ seq: 1 }));
    const cases: Array<[string, string]> = [
      [`{"v":1,"ts":"${TS}","seq":2,"body":{"type":"sweeper","signals":{"note":${nul}}}}`, 'body.signals.note'],
      [`{"v":1,"ts":"${TS}","seq":2,"body":{"type":"sweeper","signals":{"note":${lone}}}}`, 'body.signals.note'],
      [`{"v":1,"ts":"${TS}","seq":2,"body":{"type":"sweeper","signals":{"a\\u0000":1}}}`, '(the key)'],
      [`{"v":1,"ts":"${TS}","seq":2,"dtc":["P0A80",${lone}]}`, 'dtc[1]'],
    ];
    for (const [element, where] of cases) {
      const result = decodeTelemetry(enc(`[${good},${element}]`), ctx);
      expect(result.accepted.map((a) => a.sample.seq), element).toEqual([1]);
      expect(result.rejected, element).toEqual([expect.objectContaining({ reason: 'SCHEMA', index: 1 })]);
      expect(result.rejected[0]!.detail).toContain(where);
    }
  });

  it('refuses them in events and status too', () => {
    const event = (message: string) => `{"v":1,"ts":"${TS}","seq":1,"kind":"incident","code":"X","message":${message}}`;
    expect(decodeEvents(enc(event(lone)), ctx).rejected).toEqual([expect.objectContaining({ reason: 'SCHEMA' })]);
    expect(decodeEvents(enc(`{"v":1,"ts":"${TS}","seq":1,"kind":"incident","code":"X","data":{"k":${nul}}}`), ctx).accepted).toEqual([]);
    const status = decodeStatus(enc(`{"v":1,"online":true,"fw":"1.4\\u0000"}`));
    expect(status.ok).toBe(false);
    if (!status.ok) expect(status.rejection.reason).toBe('SCHEMA');
  });

  it('accepts escapes that are storable: a surrogate pair (emoji), other control characters, \\u-escaped letters', () => {
    const ok = `{"v":1,"ts":"${TS}","seq":1,"body":{"type":"sweeper","signals":{"a":"\\ud83d\\ude00","b":"tab\\u0009","c":"\\u00e9t\\u00e9"}}}`;
    const result = decodeTelemetry(enc(ok), ctx);
    expect(result.rejected).toEqual([]);
    expect((result.accepted[0]!.sample.body!.signals as Record<string, unknown>)['a']).toBe('😀');
  });

  it('never puts one into a detail (key names and parser messages quote the payload)', () => {
    const details = [
      rejectionOf(`{"v":1,"ts":"${TS}","seq":1,"battery":{"\\u0000":1}}`).detail,
      rejectionOf(`{"v":1,"ts":"${TS}","seq":1,"battery":{"\\udc00x":1}}`).detail,
      rejectionOf('{"v":1,"ts":\u0000}').detail,
      rejectionOf(`{"v":1,"ts":"${TS}","seq":1,"battery":{"${'\\u0001'.repeat(150)}":1}}`).detail,
    ];
    for (const detail of details) {
      expect(detail).not.toMatch(/[\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/);
      expect(detail.length).toBeLessThanOrEqual(200);
    }
    expect(details[0]).toContain('\\u0000');
  });
});

describe('JSON Schemas for OpenAPI', () => {
  it('are strict JSON Schema objects with the required fields', () => {
    // v is optional (SPEC §3: only ts and seq are required; no v is v1).
    expect(telemetrySampleJsonSchema).toMatchObject({ type: 'object', additionalProperties: false, required: ['ts', 'seq'] });
    expect(vehicleEventJsonSchema).toMatchObject({ type: 'object', additionalProperties: false, required: ['ts', 'seq', 'kind', 'code'] });
    expect(statusMessageJsonSchema).toMatchObject({ type: 'object', additionalProperties: false, required: ['online'] });
    // Serialisable as is (no functions or symbols that would be lost).
    expect(JSON.parse(JSON.stringify(telemetrySampleJsonSchema))).toEqual(telemetrySampleJsonSchema);
  });
});
