// Schema pieces shared by the routes' TypeBox schemas (validation and OpenAPI alike).
import Type, { type TSchema } from 'typebox';
import { ERROR_CODE_KEYWORD } from './endpoint.js';

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const ErrorResponse = Type.Object(
  { error: Type.Object({ code: Type.String({ description: 'stable machine-readable code, e.g. range_too_long' }), message: Type.String() }) },
  { description: 'every error answer' },
);

export const TimeParam = (description: string) =>
  Type.String({ maxLength: 40, description: `${description}: ISO-8601 UTC date-time (2026-11-26T08:00:00Z, offsets accepted) or a date (2026-11-26), from 1970-01-01 to 9999-12-31`, [ERROR_CODE_KEYWORD]: 'invalid_time' });

export const LimitParam = Type.Integer({ minimum: 1, description: 'page size (default and maximum are configured; above the maximum → 400 page_too_large)' });
export const CursorParam = Type.String({ maxLength: 400, description: 'next_cursor of the previous page', [ERROR_CODE_KEYWORD]: 'invalid_cursor' });

export const VehicleIdParams = Type.Object(
  { id: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$', description: 'vehicle id', [ERROR_CODE_KEYWORD]: 'not_found' }) },
  { additionalProperties: false },
);

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), next_cursor: Nullable(Type.String({ description: 'pass as ?cursor= for the next page; null on the last page' })) });

export const Iso = Type.String({ format: 'date-time' });
export const NullableIso = Nullable(Iso);
export const NullableNumber = Nullable(Type.Number());

export const BooleanParam = (description: string) => Type.Boolean({ description: `${description} (true | false)` });


export function iso(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}
