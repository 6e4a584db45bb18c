// Turns raw MQTT payload bytes into accepted v1 samples/events or rejections with stable reason codes (SPEC §4.3).
//
// Pure and synchronous: no I/O, no clock (the caller passes nowMs), no throw for any input bytes.
//
// Batches: a payload is one object or an array of objects (store-and-forward backlog). Problems of the message as a
// whole (size, UTF-8, JSON, top-level shape, empty/oversized batch) reject the whole message with exactly one
// rejection without `index`. Otherwise every element is judged on its own: one bad sample in a backlog of 1000 is
// dead-lettered with its `index` and the other 999 are stored. Each element gets at most one rejection, the first
// failing check in this order: NOT_OBJECT, UNKNOWN_VERSION, MISSING_FIELD (ts, seq), INVALID_TS,
// SCHEMA / OUT_OF_RANGE (a string or key PostgreSQL cannot store, see UNSTORABLE, is SCHEMA), TS_IN_FUTURE /
// TS_TOO_OLD.
import { clip, compileContract, jsonType, renderValue, type CompiledContract } from './schema-check.js';
import { VehicleEventSchema, type VehicleEvent } from './event.schema.js';
import { MAX_STATUS_BYTES, StatusMessageSchema, type StatusMessage } from './status.schema.js';
import { TelemetrySampleSchema, type TelemetrySample } from './telemetry.schema.js';
import { parseTimestamp } from './timestamp.js';

/** Stable reason codes: stored in dead_letters.reason and used as a metric label. Append only; never rename. */
export const REJECT_REASONS = [
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
  // Reserved for the broker: a publish to a foreign topic is refused there and never reaches the decoder.
  'NOT_AUTHORIZED',
  // Ingestion's: a sample that passed validation but that the database itself refused (found by bisecting a batch).
  'STORAGE_REJECTED',
] as const;
export type RejectReason = (typeof REJECT_REASONS)[number];

const rejectReasons: ReadonlySet<string> = new Set(REJECT_REASONS);
export function isRejectReason(value: unknown): value is RejectReason {
  return typeof value === 'string' && rejectReasons.has(value);
}

export interface Rejection {
  reason: RejectReason;
  /** Short, human-readable, names the field: "battery.soc_pct: 140 > 100". Never the whole payload. */
  detail: string;
  /** Position in the array payload; absent for whole-message rejections and for single-object payloads. */
  index?: number;
}

export interface DecodeContext {
  /** Server time, epoch ms (the decoder never reads the clock). */
  nowMs: number;
  /** ts may be at most this far ahead of nowMs (SPEC: 5 min). */
  maxFutureMs: number;
  /** ts may be at most this far behind nowMs (the accepted backfill window). */
  maxAgeMs: number;
  /** Most elements in one array payload (SPEC: 1000). */
  maxSamples: number;
  /** Largest payload in bytes (SPEC §4.7: 256 KiB by default). */
  maxBytes: number;
}

/** Suggested limits; the deployed values come from libs/config. The edges are inclusive (accepted). */
export const DEFAULT_DECODE_LIMITS: Readonly<Omit<DecodeContext, 'nowMs'>> = Object.freeze({
  maxFutureMs: 5 * 60_000,
  maxAgeMs: 7 * 24 * 3_600_000,
  maxSamples: 1000,
  maxBytes: 256 * 1024,
});

export interface AcceptedSample {
  sample: TelemetrySample;
  /** `sample.ts` as epoch ms. */
  tsMs: number;
  /** Position in the array payload (0 for a single-object payload). */
  index: number;
}

export interface AcceptedEvent {
  event: VehicleEvent;
  tsMs: number;
  index: number;
}

export interface DecodeResult<A> {
  accepted: A[];
  rejected: Rejection[];
}

export type StatusDecodeResult = { ok: true; status: StatusMessage } | { ok: false; rejection: Rejection };

const telemetryContract = compileContract(TelemetrySampleSchema);
const eventContract = compileContract(VehicleEventSchema);
const statusContract = compileContract(StatusMessageSchema);

// fatal: invalid UTF-8 throws instead of becoming U+FFFD, so it is rejected rather than stored altered.
const utf8 = new TextDecoder('utf-8', { fatal: true });

// Control characters and unpaired surrogates, as UTF-16 code units: what a detail must not carry into dead_letters
// (PostgreSQL text refuses U+0000, and a lone surrogate cannot be encoded as UTF-8). They reach a detail through a
// key name or a parser message that quotes the payload.
const UNSAFE_IN_DETAIL = /[\u0000-\u001f\u007f]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g;

const MAX_DETAIL = 200;

/** `text` with control characters and unpaired surrogates written as `\\uXXXX`: safe for a text column and a log. */
export function escapeUnsafeText(text: string): string {
  return text.replace(UNSAFE_IN_DETAIL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

function reject(reason: RejectReason, detail: string, index?: number): Rejection {
  const safe = clip(escapeUnsafeText(detail), MAX_DETAIL);
  return index === undefined ? { reason, detail: safe } : { reason, detail: safe, index };
}

function whole<A>(reason: RejectReason, detail: string): DecodeResult<A> {
  return { accepted: [], rejected: [reject(reason, detail)] };
}

// Parsed JSON, or the whole-message rejection. A class instance marks the failure without a wrapper per success.
class ParseFailure {
  constructor(readonly rejection: Rejection) {}
}

// U+0000 and unpaired surrogates (UTF-16 code units). JSON can write both as escapes (\u0000, \ud83d), JSON.parse
// returns them, and PostgreSQL cannot store them: text and jsonb refuse U+0000, jsonb refuses an unpaired surrogate
// and text would store it altered (as U+FFFD). Found after parsing, they would make the database refuse the whole
// batch instead of one element. Raw bytes cannot produce them: JSON forbids unescaped control characters in strings,
// and the fatal UTF-8 decoder refuses encoded surrogates. So only a payload with a `\u` escape needs the walk.
const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** The path of the first string or key of `value` that PostgreSQL cannot store (see UNSTORABLE), if any. */
function unstorableAt(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? path : undefined;
  if (value === null || typeof value !== 'object') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unstorableAt(value[i], `${path}[${i}]`);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  for (const [key, child] of Object.entries(value)) {
    const at = path === '' ? key : `${path}.${key}`;
    if (UNSTORABLE.test(key)) return `${at} (the key)`;
    const found = unstorableAt(child, at);
    if (found !== undefined) return found;
  }
  return undefined;
}

function unstorableRejection(path: string, index: number | undefined): Rejection {
  return reject('SCHEMA', `${path}: contains U+0000 or an unpaired surrogate (\\u0000, \\ud800–\\udfff), which cannot be stored`, index);
}

/** A parsed payload, and whether its text has a `\u` escape: the only way to an UNSTORABLE string. */
class Parsed {
  constructor(
    readonly root: unknown,
    readonly escapes: boolean,
  ) {}
}

function parsePayload(payload: Uint8Array, maxBytes: number): Parsed | ParseFailure {
  if (payload.byteLength > maxBytes) {
    return new ParseFailure(reject('PAYLOAD_TOO_LARGE', `payload: ${payload.byteLength} bytes > ${maxBytes}`));
  }
  let text: string;
  try {
    text = utf8.decode(payload);
  } catch {
    return new ParseFailure(reject('INVALID_UTF8', 'payload: not valid UTF-8'));
  }
  try {
    return new Parsed(JSON.parse(text) as unknown, text.includes('\\u'));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    return new ParseFailure(reject('MALFORMED_JSON', `payload: ${message.length > 100 ? `${message.slice(0, 99)}…` : message}`));
  }
}

function formatTs(ms: number): string {
  return Number.isFinite(ms) && Math.abs(ms) <= 8.64e15 ? new Date(ms).toISOString() : String(ms);
}

/**
 * Judges one element; returns its ts in epoch ms when it is accepted, else its rejection. The envelope checks come
 * first so the reasons are specific (a sample without ts is MISSING_FIELD, not a generic SCHEMA).
 */
function judge(element: unknown, contract: CompiledContract<unknown>, ctx: DecodeContext, index: number | undefined, escapes: boolean): number | Rejection {
  if (element === null || typeof element !== 'object' || Array.isArray(element)) {
    return reject('NOT_OBJECT', `element: expected object, got ${jsonType(element)}`, index);
  }
  const record = element as Record<string, unknown>;
  // No `v` is v1 (SPEC §3: only ts and seq are required).
  const v = record['v'];
  if (v !== undefined && v !== 1) return reject('UNKNOWN_VERSION', `v: ${renderValue(v)} (supported: 1)`, index);
  const ts = record['ts'];
  if (ts === undefined) return reject('MISSING_FIELD', 'ts: missing', index);
  if (record['seq'] === undefined) return reject('MISSING_FIELD', 'seq: missing', index);
  const tsMs = parseTimestamp(ts);
  if (Number.isNaN(tsMs)) {
    return reject('INVALID_TS', `ts: ${renderValue(ts)} is not ISO-8601 with Z/offset nor epoch ms`, index);
  }
  if (!contract.check(element)) {
    const verdict = contract.explain(element);
    return reject(verdict.reason, verdict.detail, index);
  }
  if (escapes) {
    const at = unstorableAt(element, '');
    if (at !== undefined) return unstorableRejection(at, index);
  }
  if (tsMs > ctx.nowMs + ctx.maxFutureMs) {
    const ahead = Math.round((tsMs - ctx.nowMs) / 1000);
    return reject('TS_IN_FUTURE', `ts: ${formatTs(tsMs)} is ${ahead} s ahead (max ${ctx.maxFutureMs / 1000} s)`, index);
  }
  if (tsMs < ctx.nowMs - ctx.maxAgeMs) {
    const age = Math.round((ctx.nowMs - tsMs) / 1000);
    return reject('TS_TOO_OLD', `ts: ${formatTs(tsMs)} is ${age} s old (max ${ctx.maxAgeMs / 1000} s)`, index);
  }
  return tsMs;
}

function decodeBatch<T, A>(
  payload: Uint8Array,
  ctx: DecodeContext,
  contract: CompiledContract<T>,
  accept: (value: T, tsMs: number, index: number) => A,
): DecodeResult<A> {
  const parsed = parsePayload(payload, ctx.maxBytes);
  if (parsed instanceof ParseFailure) return { accepted: [], rejected: [parsed.rejection] };
  const { root, escapes } = parsed;
  const accepted: A[] = [];
  const rejected: Rejection[] = [];
  if (Array.isArray(root)) {
    if (root.length === 0) return whole('EMPTY_BATCH', 'payload: empty array');
    if (root.length > ctx.maxSamples) return whole('TOO_MANY_SAMPLES', `payload: ${root.length} elements > ${ctx.maxSamples}`);
    for (let i = 0; i < root.length; i++) {
      const element: unknown = root[i];
      const verdict = judge(element, contract, ctx, i, escapes);
      if (typeof verdict === 'number') accepted.push(accept(element as T, verdict, i));
      else rejected.push(verdict);
    }
    return { accepted, rejected };
  }
  if (root === null || typeof root !== 'object') {
    return whole('NOT_OBJECT', `payload: expected object or array, got ${jsonType(root)}`);
  }
  const verdict = judge(root, contract, ctx, undefined, escapes);
  if (typeof verdict === 'number') accepted.push(accept(root as T, verdict, 0));
  else rejected.push(verdict);
  return { accepted, rejected };
}

const acceptSample = (sample: TelemetrySample, tsMs: number, index: number): AcceptedSample => ({ sample, tsMs, index });
const acceptEvent = (event: VehicleEvent, tsMs: number, index: number): AcceptedEvent => ({ event, tsMs, index });

/** Decodes a `fleet/{vid}/telemetry` payload: one sample or an array of up to ctx.maxSamples samples. */
export function decodeTelemetry(payload: Uint8Array, ctx: DecodeContext): DecodeResult<AcceptedSample> {
  return decodeBatch(payload, ctx, telemetryContract, acceptSample);
}

/** Decodes a `fleet/{vid}/events` payload: one event or an array of up to ctx.maxSamples events. */
export function decodeEvents(payload: Uint8Array, ctx: DecodeContext): DecodeResult<AcceptedEvent> {
  return decodeBatch(payload, ctx, eventContract, acceptEvent);
}

/**
 * Decodes a `fleet/{vid}/status` payload (retained, also the Last Will). No ts, so no time window. An empty payload
 * (a retained message being cleared) is MALFORMED_JSON; callers that care can test `payload.byteLength === 0` first.
 */
export function decodeStatus(payload: Uint8Array, options: { maxBytes?: number } = {}): StatusDecodeResult {
  const parsed = parsePayload(payload, options.maxBytes ?? MAX_STATUS_BYTES);
  if (parsed instanceof ParseFailure) return { ok: false, rejection: parsed.rejection };
  const root = parsed.root;
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    return { ok: false, rejection: reject('NOT_OBJECT', `payload: expected object, got ${jsonType(root)}`) };
  }
  const v = (root as Record<string, unknown>)['v'];
  if (v !== undefined && v !== 1) {
    return { ok: false, rejection: reject('UNKNOWN_VERSION', `v: ${renderValue(v)} (supported: 1)`) };
  }
  if (!statusContract.check(root)) {
    const verdict = statusContract.explain(root);
    return { ok: false, rejection: reject(verdict.reason, verdict.detail) };
  }
  const at = parsed.escapes ? unstorableAt(root, '') : undefined;
  if (at !== undefined) return { ok: false, rejection: unstorableRejection(at, undefined) };
  return { ok: true, status: root };
}

/** The rejection for a message whose topic parseTopic refused (the broker ACL should make this rare). */
export function unknownTopicRejection(topic: string): Rejection {
  const shown = JSON.stringify(topic.length > 80 ? `${topic.slice(0, 80)}…` : topic);
  return reject('UNKNOWN_TOPIC', `topic: ${shown} is not fleet/{vehicle id}/{telemetry|events|status|cmd|cmd/ack}`);
}
