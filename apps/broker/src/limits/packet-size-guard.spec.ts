import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { type GuardViolation, type OversizeForwarding, PacketSizeGuard, readOversizeStandIn } from './packet-size-guard.js';

function guarded(limit: number, oversize?: OversizeForwarding) {
  const inner = new PassThrough();
  const violations: GuardViolation[] = [];
  const guard = new PacketSizeGuard(inner, limit, (kind) => violations.push(kind), undefined, oversize);
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
    // no byte of the oversize packet reached aedes: its header's first byte was held back until the header was whole
    expect(Buffer.concat(passed)).toEqual(Buffer.from([0xc0, 0x00]));
  });

  it('refuses a remaining length longer than four bytes', async () => {
    const { inner, violations } = guarded(1024);
    inner.write(Buffer.from([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]));
    await tick();
    expect(violations).toEqual(['malformed_length']);
  });

  const MARKER = Buffer.from('5b1e6c0d9a7f4e2b8c3d1a0f6e5d4c3b', 'hex');
  /** CONNECT, MQTT 3.1.1, clean session, keepalive 30 s, client id "V1": only after one is an oversize PUBLISH read past. */
  const CONNECT = Buffer.from([0x10, 14, 0, 4, ...Buffer.from('MQTT'), 4, 0x02, 0, 30, 0, 2, ...Buffer.from('V1')]);

  /** An MQTT 3.1.1 PUBLISH, encoded by hand (the guard must not depend on a parser to be tested). */
  function publish(topic: string, payload: Buffer, opts: { qos?: 0 | 1; messageId?: number; retain?: boolean } = {}): Buffer {
    const t = Buffer.from(topic);
    const id = opts.qos ? Buffer.from([opts.messageId! >> 8, opts.messageId! & 0xff]) : Buffer.alloc(0);
    const body = Buffer.concat([Buffer.from([t.length >> 8, t.length & 0xff]), t, id, payload]);
    const len: number[] = [];
    let x = body.length;
    do {
      len.push((x % 128) | (x >= 128 ? 0x80 : 0));
      x = Math.floor(x / 128);
    } while (x > 0);
    return Buffer.concat([Buffer.from([0x30 | ((opts.qos ?? 0) << 1) | (opts.retain ? 1 : 0), ...len]), body]);
  }

  /** The packets in `bytes`: type, flags and, for a PUBLISH, topic, packet id and payload. */
  function packets(bytes: Buffer) {
    const out: Array<{ type: number; flags: number; topic?: string; messageId?: number; payload?: Buffer }> = [];
    let i = 0;
    while (i < bytes.length) {
      const first = bytes[i++]!;
      let length = 0;
      for (let m = 1; ; m *= 128) {
        const b = bytes[i++]!;
        length += (b & 0x7f) * m;
        if (!(b & 0x80)) break;
      }
      const body = bytes.subarray(i, i + length);
      i += length;
      if (first >> 4 !== 3) {
        out.push({ type: first >> 4, flags: first & 15 });
        continue;
      }
      const topicLength = body.readUInt16BE(0);
      const qos = (first >> 1) & 3;
      const idAt = 2 + topicLength;
      out.push({
        type: 3,
        flags: first & 15,
        topic: body.subarray(2, idAt).toString(),
        ...(qos > 0 ? { messageId: body.readUInt16BE(idAt) } : {}),
        payload: body.subarray(idAt + (qos > 0 ? 2 : 0)),
      });
    }
    return out;
  }

  it('hands an oversize PUBLISH on as a short stand-in (topic, QoS, packet id, the first bytes), however the stream is cut', async () => {
    const small = publish('fleet/V-1/telemetry', Buffer.from('{"v":1}'), { qos: 1, messageId: 7 });
    const bigPayload = Buffer.concat([Buffer.from('[{"v":1,"ts":"2026-11-27T00:00:00Z","seq":1}'), Buffer.alloc(20_000, 0x20), Buffer.from(']')]);
    const big = publish('fleet/V-1/telemetry', bigPayload, { qos: 1, messageId: 8, retain: true });
    const tail = Buffer.concat([Buffer.from([0xc0, 0x00]), publish('fleet/V-1/events', Buffer.from('{}'))]);
    const stream = Buffer.concat([CONNECT, small, big, tail]);
    for (const cut of [1, 2, 3, 5, 64, 1_000, 4_096, stream.length]) {
      const { inner, guard, violations, passed } = guarded(1_024, { marker: MARKER, keepBytes: 100 });
      for (let i = 0; i < stream.length; i += cut) inner.write(stream.subarray(i, i + cut));
      await tick();
      expect(violations, `cut every ${cut} bytes`).toEqual([]);
      expect(guard.destroyed).toBe(false);
      const got = packets(Buffer.concat(passed));
      expect(got.map((p) => p.type), `cut every ${cut} bytes`).toEqual([1, 3, 3, 12, 3]);
      expect(got[1]).toEqual({ type: 3, flags: 0b0010, topic: 'fleet/V-1/telemetry', messageId: 7, payload: Buffer.from('{"v":1}') });
      // Same topic, QoS 1 and packet id (so the PUBACK answers the client's packet); RETAIN cleared.
      expect(got[2]).toMatchObject({ type: 3, flags: 0b0010, topic: 'fleet/V-1/telemetry', messageId: 8 });
      expect(readOversizeStandIn(got[2]!.payload!, MARKER)).toEqual({ packetBytes: big.length, kept: bigPayload.subarray(0, 100) });
      expect(got[4]).toEqual({ type: 3, flags: 0, topic: 'fleet/V-1/events', payload: Buffer.from('{}') });
      // What reached aedes is the stand-in's few bytes, not the 20 kB.
      expect(Buffer.concat(passed).length).toBeLessThan(CONNECT.length + small.length + tail.length + 200);
    }
  });

  it('still closes the connection for any other packet over the limit, and for an oversize PUBLISH whose topic outruns it', async () => {
    const subscribe = guarded(1_024, { marker: MARKER, keepBytes: 100 });
    subscribe.inner.write(Buffer.from([0x82, 0x80, 0x10])); // SUBSCRIBE of 2,048 bytes
    await tick();
    expect(subscribe.violations).toEqual(['packet_too_large']);
    expect(subscribe.guard.destroyed).toBe(true);

    const outrun = guarded(1_024, { marker: MARKER, keepBytes: 100 });
    // A PUBLISH of 2,000 bytes whose topic length says 5,000.
    outrun.inner.write(Buffer.concat([CONNECT, Buffer.from([0x30, 0xd0, 0x0f, 0x13, 0x88]), Buffer.alloc(1_998, 0x61)]));
    await tick();
    expect(outrun.violations).toEqual(['malformed_packet']);
    expect(outrun.guard.destroyed).toBe(true);
    expect(outrun.passed).toEqual([]);

    const early = guarded(1_024, { marker: MARKER, keepBytes: 100 });
    early.inner.write(publish('fleet/V-1/telemetry', Buffer.alloc(2_000), { qos: 1, messageId: 1 }));
    await tick();
    expect(early.violations, 'an oversize PUBLISH before any CONNECT').toEqual(['packet_too_large']);

    const refused = guarded(1_024, { marker: MARKER, keepBytes: 100, mayReadPast: () => false });
    refused.inner.write(Buffer.concat([CONNECT, publish('fleet/V-1/telemetry', Buffer.alloc(2_000), { qos: 1, messageId: 1 })]));
    await tick();
    expect(refused.violations, 'mayReadPast said no').toEqual(['packet_too_large']);
    expect(refused.guard.destroyed).toBe(true);

    const closing = guarded(1_024);
    closing.inner.write(publish('fleet/V-1/telemetry', Buffer.alloc(2_000), { qos: 1, messageId: 1 }));
    await tick();
    expect(closing.violations, 'without forwarding, an oversize PUBLISH closes too').toEqual(['packet_too_large']);
  });

  it('recognises only its own stand-ins', () => {
    const standIn = Buffer.concat([MARKER, Buffer.from([0, 0, 0x50, 0]), Buffer.from('{"v"')]);
    expect(readOversizeStandIn(standIn, MARKER)).toEqual({ packetBytes: 0x5000, kept: Buffer.from('{"v"') });
    const other = Buffer.from(MARKER);
    other[15] = other[15]! ^ 1;
    expect(readOversizeStandIn(Buffer.concat([other, Buffer.from([0, 0, 0x50, 0])]), MARKER)).toBeUndefined();
    expect(readOversizeStandIn(Buffer.from('{"v":1,"ts":"2026-11-27T00:00:00Z","seq":1}'), MARKER)).toBeUndefined();
    expect(readOversizeStandIn(MARKER, MARKER), 'too short for a size').toBeUndefined();
  });
});
