// Sits between a socket and aedes and enforces the maximum MQTT packet size before anything is buffered: it reads
// each fixed header (type + variable-length "remaining length") as the bytes stream past. A packet larger than the
// limit is never buffered whole. With `oversize` set (embedded mode), after a CONNECT and with `mayReadPast()` true
// (a vehicle, or a CONNECT still being authenticated), an oversize PUBLISH is read past, keeping only its topic,
// packet id and the first bytes of its payload, and aedes receives a short PUBLISH in its place (same topic, QoS and
// packet id) whose payload says so: `oversize.marker`, the original packet's size (uint32, big endian), the kept
// bytes. The broker's publish hook dead-letters it (SPEC §4.3: oversize) and acknowledges it like any bad input, and
// the connection stays open. Any other packet over the limit destroys the connection the moment its header arrives.
// aedes' parser (mqtt-packet) has no limit and would otherwise accumulate a 100 MB PUBLISH in memory before looking
// at it.
import { Duplex } from 'node:stream';

export type GuardViolation = 'packet_too_large' | 'malformed_length' | 'malformed_packet';

export class PacketTooLargeError extends Error {
  readonly code = 'ERR_MQTT_PACKET_TOO_LARGE';
  constructor(readonly size: number, readonly limit: number) {
    super(`MQTT packet of ${size} bytes exceeds the limit of ${limit}`);
  }
}

export class MalformedLengthError extends Error {
  readonly code = 'ERR_MQTT_MALFORMED_LENGTH';
  constructor() {
    super('MQTT remaining length longer than 4 bytes');
  }
}

export class MalformedPacketError extends Error {
  readonly code = 'ERR_MQTT_MALFORMED_PACKET';
  constructor(detail: string) {
    super(`malformed MQTT packet: ${detail}`);
  }
}

/** How an oversize PUBLISH is handed on instead of closing the connection (see the module comment). */
export interface OversizeForwarding {
  /** The first bytes of the stand-in's payload (random per broker: see readOversizeStandIn). */
  marker: Buffer;
  /** How many bytes of the original payload the stand-in keeps. */
  keepBytes: number;
  /**
   * Asked when an oversize PUBLISH's header arrives after a CONNECT (before one, the connection closes at once): read
   * past it (true), or close the connection (false, e.g. a client whose messages have no dead-letter table to go
   * to). Default: true.
   */
  mayReadPast?: () => boolean;
  /**
   * Called for each read while an oversize PUBLISH is read past: aedes only refreshes a client's keepalive when it
   * handles a packet, and a large upload over a slow link may outlast 1.5 × keepalive.
   */
  onReadingPast?: () => void;
}

/** What a stand-in PUBLISH says about the packet it stands for. */
export interface OversizeStandIn {
  /** The original packet's size in bytes (fixed header included). */
  packetBytes: number;
  /** The first bytes of its payload (at most OversizeForwarding.keepBytes). */
  kept: Buffer;
}

/** The stand-in's description when `payload` is one made with `marker`; undefined for any other payload. */
export function readOversizeStandIn(payload: Buffer, marker: Buffer): OversizeStandIn | undefined {
  const m = marker.length;
  if (payload.length < m + 4 || payload[0] !== marker[0] || payload.compare(marker, 0, m, 0, m) !== 0) return undefined;
  return { packetBytes: payload.readUInt32BE(m), kept: payload.subarray(m + 4) };
}

const enum Phase {
  Type,
  Length,
  Body,
  /** Inside a PUBLISH over the limit: its first bytes are kept, the rest skipped (see collect). */
  Oversize,
}

const CONNECT = 1;
const PUBLISH = 3;
const DISCONNECT = 14;

/** An oversize PUBLISH being read past. */
interface OversizeState {
  firstByte: number;
  packetBytes: number;
  parts: Buffer[];
  have: number;
  /** Bytes to keep: the topic length first, then the variable header and `keepBytes` of payload. */
  need: number;
  topicKnown: boolean;
}

export class PacketSizeGuard extends Duplex {
  /** The client sent a DISCONNECT packet (MQTT's clean goodbye); read when the connection ends. */
  sawDisconnect = false;
  /** A CONNECT went past (aedes may not have authenticated it yet: a client may send its first PUBLISH right behind it). */
  private sawConnect = false;
  readonly remoteAddress: string | undefined;

  private phase = Phase.Type;
  private firstByte = 0;
  private packetType = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;
  private stopped = false;
  private corked = false;
  /** The bytes of a fixed header cut by the end of a read, scanned again with the next read. */
  private held: Buffer | undefined;
  private oversizeState: OversizeState | undefined;
  /** What the last read passes on to aedes (usually the read itself, whole). */
  private readonly out: Buffer[] = [];

  constructor(
    private readonly inner: Duplex,
    private readonly maxPacketSize: number,
    private readonly onViolation: (kind: GuardViolation, error: Error) => void,
    remoteAddress?: string,
    private readonly oversize?: OversizeForwarding,
  ) {
    super({ allowHalfOpen: false });
    this.remoteAddress = remoteAddress;
    inner.on('data', (chunk: Buffer) => this.onData(chunk));
    inner.on('end', () => this.push(null));
    inner.on('error', (err) => this.destroy(err));
    inner.on('close', () => {
      if (!this.destroyed) this.destroy();
    });
  }

  /** Stops reading from the client (graceful shutdown): nothing more is parsed, what is in flight completes. */
  stopReading(): void {
    this.stopped = true;
    this.inner.pause();
  }

  override _read(): void {
    if (!this.stopped) this.inner.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.inner.destroyed) return callback(new Error('connection closed'));
    // Everything written to this client in one turn of the event loop leaves in one socket write: a committed batch
    // resolves many publishes at once, and without this each PUBACK (and each part of a packet) was its own syscall.
    if (!this.corked) {
      this.corked = true;
      this.inner.cork();
      process.nextTick(() => {
        this.corked = false;
        this.inner.uncork();
      });
    }
    if (this.inner.write(chunk)) return callback();
    // Hold aedes' write until the socket drains (or closes), so its own backpressure and drainTimeout apply.
    const done = (): void => {
      this.inner.off('drain', done);
      this.inner.off('close', done);
      callback();
    };
    this.inner.on('drain', done);
    this.inner.on('close', done);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.inner.end();
    callback();
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void): void {
    this.inner.destroy();
    callback(error);
  }

  private onData(read: Buffer): void {
    if (this.destroyed) return;
    let chunk = read;
    if (this.held) {
      chunk = Buffer.concat([this.held, read]);
      this.held = undefined;
    }
    this.out.length = 0;
    const violation = this.scan(chunk);
    if (violation) {
      this.inner.pause();
      const kind = violation instanceof PacketTooLargeError ? 'packet_too_large' : violation instanceof MalformedPacketError ? 'malformed_packet' : 'malformed_length';
      this.onViolation(kind, violation);
      this.destroy(violation);
      return;
    }
    let flowing = true;
    for (const piece of this.out) flowing = this.push(piece) && flowing;
    this.out.length = 0;
    if (!flowing) this.inner.pause();
  }

  /**
   * Advances the header state machine over `chunk` and lists in `out` what passes on to aedes; returns an error at
   * the first packet that breaks a limit. A fixed header cut by the end of the chunk is held back (at most 4 bytes),
   * so that an oversize PUBLISH is known before any of its bytes reach aedes.
   */
  private scan(chunk: Buffer): Error | undefined {
    let i = 0;
    const n = chunk.length;
    // Start of the bytes that pass through unchanged (-1: inside an oversize PUBLISH, nothing passes).
    let passFrom = this.phase === Phase.Oversize ? -1 : 0;
    let headerStart = 0;
    while (i < n) {
      switch (this.phase) {
        case Phase.Type:
          headerStart = i;
          this.firstByte = chunk[i++]!;
          this.packetType = this.firstByte >> 4;
          this.length = 0;
          this.multiplier = 1;
          this.lengthBytes = 0;
          this.phase = Phase.Length;
          break;
        case Phase.Length: {
          const byte = chunk[i++]!;
          this.length += (byte & 0x7f) * this.multiplier;
          this.multiplier *= 128;
          this.lengthBytes++;
          if (byte & 0x80) {
            if (this.lengthBytes >= 4) return new MalformedLengthError();
            break;
          }
          const size = 1 + this.lengthBytes + this.length;
          if (size > this.maxPacketSize) {
            if (this.packetType !== PUBLISH || !this.oversize || !this.sawConnect || !this.asks(this.oversize.mayReadPast, true)) return new PacketTooLargeError(size, this.maxPacketSize);
            if (passFrom >= 0 && headerStart > passFrom) this.out.push(chunk.subarray(passFrom, headerStart));
            passFrom = -1;
            this.oversizeState = { firstByte: this.firstByte, packetBytes: size, parts: [], have: 0, need: Math.min(2, this.length), topicKnown: false };
            this.remaining = this.length;
            this.phase = Phase.Oversize;
            break;
          }
          if (this.packetType === DISCONNECT) this.sawDisconnect = true;
          else if (this.packetType === CONNECT) this.sawConnect = true;
          this.remaining = this.length;
          this.phase = this.remaining > 0 ? Phase.Body : Phase.Type;
          break;
        }
        case Phase.Body: {
          const take = Math.min(this.remaining, n - i);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) this.phase = Phase.Type;
          break;
        }
        case Phase.Oversize: {
          const take = Math.min(this.remaining, n - i);
          this.collect(chunk, i, take);
          this.asks(this.oversize!.onReadingPast, undefined);
          i += take;
          this.remaining -= take;
          if (this.remaining === 0) {
            const standIn = this.standIn();
            if (standIn instanceof Error) return standIn;
            this.out.push(standIn);
            passFrom = i;
            this.phase = Phase.Type;
          }
          break;
        }
      }
    }
    if (this.phase === Phase.Length) {
      if (passFrom >= 0 && headerStart > passFrom) this.out.push(chunk.subarray(passFrom, headerStart));
      this.held = Buffer.from(chunk.subarray(headerStart));
      this.phase = Phase.Type;
    } else if (passFrom >= 0 && passFrom < n) {
      this.out.push(passFrom === 0 ? chunk : chunk.subarray(passFrom));
    }
    return undefined;
  }

  /** A callback's answer (`otherwise` when absent); one that throws means no, and never escapes the 'data' handler. */
  private asks<T>(callback: (() => T) | undefined, otherwise: T): T | false {
    try {
      return callback ? callback() : otherwise;
    } catch {
      return false;
    }
  }

  /** Keeps what the stand-in needs of `take` bytes of an oversize PUBLISH from `at`: the rest is skipped, never held. */
  private collect(chunk: Buffer, at: number, take: number): void {
    const state = this.oversizeState!;
    let i = at;
    let left = take;
    while (left > 0 && state.have < state.need) {
      const k = Math.min(left, state.need - state.have);
      state.parts.push(Buffer.from(chunk.subarray(i, i + k)));
      state.have += k;
      i += k;
      left -= k;
      if (!state.topicKnown && state.have >= 2) {
        state.topicKnown = true;
        const head = Buffer.concat(state.parts);
        state.parts = [head];
        const idBytes = (state.firstByte >> 1) & 3 ? 2 : 0;
        state.need = Math.min(this.length, 2 + head.readUInt16BE(0) + idBytes + this.oversize!.keepBytes);
      }
    }
  }

  /** The short PUBLISH that stands in for the oversize one just read past (see the module comment). */
  private standIn(): Buffer | Error {
    const state = this.oversizeState!;
    this.oversizeState = undefined;
    const head = Buffer.concat(state.parts);
    if (head.length < 2) return new MalformedPacketError('PUBLISH without a topic length');
    const variableHeader = 2 + head.readUInt16BE(0) + ((state.firstByte >> 1) & 3 ? 2 : 0);
    if (variableHeader > this.length) return new MalformedPacketError('PUBLISH topic longer than the packet');
    const { marker } = this.oversize!;
    const size = Buffer.alloc(4);
    size.writeUInt32BE(state.packetBytes);
    const body = Buffer.concat([head.subarray(0, variableHeader), marker, size, head.subarray(variableHeader)]);
    // Same type, DUP and QoS; RETAIN cleared: nothing of a message that was not stored may be retained.
    return Buffer.concat([Buffer.from([state.firstByte & 0xfe, ...remainingLength(body.length)]), body]);
  }
}

/** MQTT's variable-length encoding of a remaining length. */
function remainingLength(n: number): number[] {
  const bytes: number[] = [];
  let x = n;
  do {
    let byte = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) byte |= 0x80;
    bytes.push(byte);
  } while (x > 0);
  return bytes;
}
