import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type GuardViolation, PacketSizeGuard } from './packet-size-guard.js';

function guarded(limit: number) {
  const inner = new PassThrough();
  const violations: GuardViolation[] = [];
  const guard = new PacketSizeGuard(inner, limit, (kind) => violations.push(kind));
  guard.on('error', () => undefined);
  const passed: Buffer[] = [];
  guard.on('data', (d: Buffer) => passed.push(d));
  return { inner, guard, violations, passed };
}

const tick = () => new Promise((r) => setImmediate(r));

describe('PacketSizeGuard', () => {
  it('passes packets up to the limit through untouched, across chunk boundaries', async () => {
    const { inner, guard, violations, passed } = guarded(10);
    const bytes = Buffer.from([0x30, 0x08, 1, 2, 3, 4, 5, 6, 7, 8, 0xc0, 0x00, 0xe0, 0x00]);
    for (const b of bytes) inner.write(Buffer.from([b]));
    await tick();
    expect(Buffer.concat(passed)).toEqual(bytes);
    expect(violations).toEqual([]);
    expect(guard.sawDisconnect).toBe(true);
  });

  it('destroys the connection as soon as a header announces more than the limit', async () => {
    const { inner, guard, violations, passed } = guarded(1024);
    inner.write(Buffer.from([0xc0, 0x00, 0x30])); // PINGREQ, then a PUBLISH header…
    inner.write(Buffer.from([0x80, 0x80, 0x80, 0x01])); // …of 2 MiB
    await tick();
    expect(violations).toEqual(['packet_too_large']);
    expect(guard.destroyed).toBe(true);
    expect(inner.destroyed).toBe(true);
    // the chunk that completed the header never reached aedes (the first header byte, alone in its chunk, did)
    expect(Buffer.concat(passed)).toEqual(Buffer.from([0xc0, 0x00, 0x30]));
  });

  it('refuses a remaining length longer than four bytes', async () => {
    const { inner, violations } = guarded(1024);
    inner.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    await tick();
    expect(violations).toEqual(['malformed_length']);
  });
});
