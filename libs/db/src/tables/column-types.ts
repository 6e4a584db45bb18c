// Column type helpers shared by the table interfaces: how each PostgreSQL type looks in JS when read and written.
import type { ColumnType } from 'kysely';

/** timestamptz: read as Date (node-pg default); written as Date or an ISO-8601 string. */
export type Timestamp = ColumnType<Date, Date | string, Date | string>;
/** timestamptz with a server-side default (now()). */
export type GeneratedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;
/**
 * int8 / bigint: read as a JS number (see createDatabase: values beyond 2^53 raise an error instead of losing
 * precision; seq is a uint32 and ids are bigserials, so they always fit).
 */
export type Int8 = ColumnType<number, number, number>;
/** bytea: Buffer both ways. */
export type Bytea = ColumnType<Buffer, Buffer, Buffer>;
/** text[]: a JS string array both ways (node-pg serialises arrays as PostgreSQL array literals). */
export type TextArray = ColumnType<string[], string[], string[]>;

export type JsonPrimitive = string | number | boolean | null;
export type JsonValue = JsonPrimitive | JsonValue[] | { [key: string]: JsonValue };
export type JsonObject = { [key: string]: JsonValue };
/**
 * jsonb holding an object. Written as the object or as JSON text: node-pg JSON.stringifies plain objects,
 * but would turn a top-level JS array into a PostgreSQL array, so only objects (or strings) are accepted.
 */
export type JsonbObject<T extends JsonObject = JsonObject> = ColumnType<T, T | string, T | string>;
