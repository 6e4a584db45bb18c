// COPY … FROM STDIN (FORMAT binary) encoding for the telemetry hot path: every stored sample is encoded here once.
// Why binary rather than the text format: the text format turns ~35 numbers per row into decimal strings in Node
// (string garbage: the profile had the text encoder and the GC it caused as the largest costs after JSON.parse) and
// back into doubles in PostgreSQL (float8in per field); binary writes each number as its 4 or 8 bytes into one Buffer.
// The row writer is generated once per column list (`new Function`), so every field is a named property load on rows
// of one shape — a generic loop over column names does keyed loads that V8 cannot keep monomorphic.
// Format: https://www.postgresql.org/docs/current/sql-copy.html#id-1.9.3.55.9.4
import type { BulkColumn, BulkKind } from './bulk.js';

const SIGNATURE = Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1');
/** 2000-01-01T00:00:00Z, PostgreSQL's timestamp epoch, in Unix ms. */
const PG_EPOCH_MS = 946_684_800_000;
const TEXT_OID = 25;

/** A growing Buffer with big-endian writers (DataView: V8 inlines its accessors). */
export class BinaryCopyWriter {
  buf: Buffer;
  view: DataView;
  pos = 0;

  constructor(initialBytes: number) {
    this.buf = Buffer.allocUnsafe(Math.max(64, initialBytes));
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  ensure(bytes: number): void {
    if (this.pos + bytes <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + bytes));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
  }

  tupleStart(fields: number): void {
    this.ensure(2);
    this.view.setInt16(this.pos, fields);
    this.pos += 2;
  }

  nul(): void {
    this.ensure(4);
    this.view.setInt32(this.pos, -1);
    this.pos += 4;
  }

  float8(v: number): void {
    this.ensure(12);
    this.view.setInt32(this.pos, 8);
    this.view.setFloat64(this.pos + 4, v);
    this.pos += 12;
  }

  float4(v: number): void {
    this.ensure(8);
    this.view.setInt32(this.pos, 4);
    this.view.setFloat32(this.pos + 4, v);
    this.pos += 8;
  }

  /** Integers up to 2^53 (JS numbers), as int8. */
  int8(v: number): void {
    this.ensure(12);
    this.view.setInt32(this.pos, 8);
    this.int64(this.pos + 4, v);
    this.pos += 12;
  }

  int2(v: number): void {
    this.ensure(6);
    this.view.setInt32(this.pos, 2);
    this.view.setInt16(this.pos + 4, v);
    this.pos += 6;
  }

  bool(v: unknown): void {
    this.ensure(5);
    this.view.setInt32(this.pos, 1);
    this.view.setUint8(this.pos + 4, v ? 1 : 0);
    this.pos += 5;
  }

  /** Microseconds since 2000-01-01 UTC; a Date, or anything `new Date()` parses (ISO strings). */
  timestamptz(v: unknown): void {
    const ms = v instanceof Date ? v.getTime() : new Date(v as string).getTime();
    if (!Number.isFinite(ms)) throw new RangeError(`COPY binary: invalid timestamp ${String(v)}`);
    this.ensure(12);
    this.view.setInt32(this.pos, 8);
    this.int64(this.pos + 4, (ms - PG_EPOCH_MS) * 1000);
    this.pos += 12;
  }

  text(v: unknown): void {
    const s = typeof v === 'string' ? v : String(v);
    this.ensure(4 + s.length * 3); // UTF-8 needs at most 3 bytes per UTF-16 code unit
    const n = this.buf.write(s, this.pos + 4, 'utf8');
    this.view.setInt32(this.pos, n);
    this.pos += 4 + n;
  }

  /** jsonb: version byte 1, then the JSON text. */
  jsonb(v: unknown): void {
    const s = typeof v === 'string' ? v : JSON.stringify(v);
    this.ensure(5 + s.length * 3);
    this.view.setUint8(this.pos + 4, 1);
    const n = this.buf.write(s, this.pos + 5, 'utf8');
    this.view.setInt32(this.pos, n + 1);
    this.pos += 5 + n;
  }

  /** A one-dimensional text[] without NULL elements (array_recv layout: ndim, has-null flag, element OID, dims). */
  textArray(v: unknown): void {
    const items = v as readonly unknown[];
    const start = this.pos;
    this.ensure(4 + 20);
    const empty = items.length === 0;
    this.view.setInt32(start + 4, empty ? 0 : 1); // ndim (0 for '{}')
    this.view.setInt32(start + 8, 0); // no NULL elements
    this.view.setInt32(start + 12, TEXT_OID);
    this.pos = start + 16;
    if (!empty) {
      this.view.setInt32(this.pos, items.length);
      this.view.setInt32(this.pos + 4, 1); // lower bound
      this.pos += 8;
      for (const item of items) {
        if (item === null || item === undefined) throw new TypeError('COPY binary: NULL elements in a text[] are not supported');
        this.text(item);
      }
    }
    this.view.setInt32(start, this.pos - start - 4);
  }

  private int64(at: number, v: number): void {
    const hi = Math.floor(v / 4_294_967_296);
    this.view.setInt32(at, hi);
    this.view.setUint32(at + 4, v - hi * 4_294_967_296);
  }
}

const WRITER_METHOD: Record<BulkKind, keyof BinaryCopyWriter> = {
  text: 'text',
  timestamptz: 'timestamptz',
  int8: 'int8',
  int2: 'int2',
  float8: 'float8',
  float4: 'float4',
  bool: 'bool',
  jsonb: 'jsonb',
  'text[]': 'textArray',
};

// Property names of the rows; unquoted in SQL, so a camelCase name is the same (case-folded) column in CREATE and COPY.
const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Bytes to reserve per row before the first one is written (grows as needed). */
const ROW_BYTES_GUESS = 400;

/**
 * A function turning rows into one COPY binary payload (header, tuples, trailer) for exactly these columns in this
 * order; use it with `COPY table (col, …) FROM STDIN (FORMAT binary)`. NULL and undefined become SQL NULL; numbers
 * go to float8/float4/int8/int2 columns as they are (float4 rounds to the nearest single, as `real` does).
 */
export function compileBinaryCopy<K extends string>(
  columns: ReadonlyArray<BulkColumn<K>>,
): (rows: readonly Partial<Record<K, unknown>>[]) => Buffer {
  const lines = columns.map((c) => {
    if (!IDENTIFIER.test(c.name)) throw new Error(`compileBinaryCopy: ${c.name} is not a plain column name`);
    return `v = r.${c.name}; if (v === null || v === undefined) w.nul(); else w.${WRITER_METHOD[c.kind]}(v);`;
  });
  // eslint-disable-next-line @typescript-eslint/no-implied-eval -- generated once from a fixed column list (see above)
  const writeRow = new Function('w', 'r', `let v;\n${lines.join('\n')}`) as (w: BinaryCopyWriter, r: unknown) => void;
  const fields = columns.length;
  return (rows) => {
    const w = new BinaryCopyWriter(SIGNATURE.length + 10 + rows.length * ROW_BYTES_GUESS);
    SIGNATURE.copy(w.buf, 0);
    w.pos = SIGNATURE.length;
    w.view.setInt32(w.pos, 0); // flags
    w.view.setInt32(w.pos + 4, 0); // header extension length
    w.pos += 8;
    for (const r of rows) {
      w.tupleStart(fields);
      writeRow(w, r);
    }
    w.ensure(2);
    w.view.setInt16(w.pos, -1); // trailer
    w.pos += 2;
    return w.buf.subarray(0, w.pos);
  };
}
