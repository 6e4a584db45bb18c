// Schema pieces shared by the v1 payloads (SPEC §3): envelope fields, counters and free-form signal maps.
//
// Every schema in this lib is a TypeBox type, i.e. a plain JSON Schema object: the same value gives the TS type
// (Static<>), the compiled runtime validator (typebox/compile) and the JSON Schema for OpenAPI.
import Type from 'typebox';

/**
 * Payload version field. Optional: SPEC §3 requires only `ts` and `seq`, and v1 is the only version, so a payload
 * without `v` is read as v1. Present and anything but the number 1, it is rejected as UNKNOWN_VERSION before the
 * schema runs.
 */
export const Version = Type.Literal(1, { description: 'payload format version' });

/**
 * ISO-8601 date-time with `Z` or an offset, or epoch milliseconds (non-negative integer). The decoder checks the
 * form itself (INVALID_TS) before the schema runs; the schema only states the shape for OpenAPI.
 */
export const Timestamp = Type.Union(
  [
    // No `format: 'date-time'` here: the decoder's own parser is stricter, and a second check would cost every message.
    Type.String({ maxLength: 40, description: 'ISO-8601 date-time with Z or ±hh:mm offset, e.g. 2026-11-26T08:00:00.000Z' }),
    Type.Integer({ minimum: 0, description: 'epoch milliseconds' }),
  ],
  { description: 'sample time: ISO-8601 string with Z/offset, or epoch milliseconds' },
);

/** Per-vehicle message counter (uint32). */
export const Seq = Type.Integer({ minimum: 0, maximum: 4294967295, description: 'per-vehicle counter, uint32' });

/** A cumulative or non-negative quantity: finite (ajv strictNumbers refuses Infinity) and ≥ 0, no upper bound. */
export const NonNegative = (description?: string) => Type.Number({ minimum: 0, ...(description ? { description } : {}) });

/** Bounded number helper: every physical value has a sane range, so sensor garbage is OUT_OF_RANGE, not stored. */
export const Range = (minimum: number, maximum: number, description?: string) =>
  Type.Number({ minimum, maximum, ...(description ? { description } : {}) });

export const MAX_SIGNAL_KEYS = 64;
export const MAX_SIGNAL_STRING_LENGTH = 256;

/** Free-form scalar map (body signals, event data): number | string | boolean values, at most 64 keys. */
export const SignalMap = (description: string) =>
  Type.Record(
    Type.String(),
    Type.Union([Type.Number(), Type.String({ maxLength: MAX_SIGNAL_STRING_LENGTH }), Type.Boolean()]),
    { maxProperties: MAX_SIGNAL_KEYS, description },
  );
