// A minimal MQTT 3.1.1 publisher for the load generator: CONNECT (client id, username, password, clean session),
// QoS 1 PUBLISH, PUBACK matching, PINGREQ; nothing else (no subscriptions, no reconnect, no store).
// Why not MQTT.js here: on this 2-core machine the generator shares the CPU with the broker under test and with
// PostgreSQL, and MQTT.js spent ≈ 27 µs of CPU per QoS 1 publish in the ingest scenario (53 % of a core at
// 19.5 k msg/s) — CPU taken from the system being measured. This client builds each PUBLISH in one Buffer and writes a
// turn's packets in one syscall per socket (cork/uncork). The tests use MQTT.js and mosquitto's CLI clients; the
// broker sees the same bytes on the wire either way (packets per the OASIS MQTT 3.1.1 spec, §3.1, §3.3, §3.4, §3.12).
import { connect as tcpConnect, type Socket } from 'node:net';

export interface LeanConnectOptions {
  host: string;
  port: number;
  clientId: string;
  username?: string;
  password?: string;
  /** Seconds; a PINGREQ goes out every keepalive / 2 s. */
  keepalive: number;
  connectTimeoutMs: number;
}

const CONNACK = 0x20;
const PUBACK = 0x40;
const PINGREQ = Buffer.from([0xc0, 0x00]);
const DISCONNECT = Buffer.from([0xe0, 0x00]);

function varintLength(n: number): number {
  return n < 128 ? 1 : n < 16_384 ? 2 : n < 2_097_152 ? 3 : 4;
}

function writeVarint(buf: Buffer, at: number, n: number): number {
  let v = n;
  do {
    let byte = v % 128;
    v = Math.floor(v / 128);
    if (v > 0) byte |= 0x80;
    buf[at++] = byte;
  } while (v > 0);
  return at;
}

function utf8Field(s: string): Buffer {
  const bytes = Buffer.from(s, 'utf8');
  const out = Buffer.allocUnsafe(2 + bytes.length);
  out.writeUInt16BE(bytes.length, 0);
  bytes.copy(out, 2);
  return out;
}

function connectPacket(o: LeanConnectOptions): Buffer {
  let flags = 0x02; // clean session
  const payload = [utf8Field(o.clientId)];
  if (o.username !== undefined) {
    flags |= 0x80;
    payload.push(utf8Field(o.username));
  }
  if (o.password !== undefined) {
    flags |= 0x40;
    payload.push(utf8Field(o.password));
  }
  const variable = Buffer.from([0x00, 0x04, 0x4d, 0x51, 0x54, 0x54, 0x04, flags, (o.keepalive >> 8) & 0xff, o.keepalive & 0xff]);
  const body = Buffer.concat([variable, ...payload]);
  const head = Buffer.allocUnsafe(1 + varintLength(body.length));
  head[0] = 0x10;
  writeVarint(head, 1, body.length);
  return Buffer.concat([head, body]);
}

export class LeanPublisher {
  /** Called once when the connection ends for any reason after CONNACK. */
  onClose: (() => void) | undefined;
  private readonly acks: Array<(() => void) | undefined> = new Array(65_536);
  private nextId = 0;
  private inflight = 0;
  private corked = false;
  private pending: Buffer | undefined;
  private closed = false;
  private ping: NodeJS.Timeout | undefined;

  private constructor(private readonly socket: Socket) {}

  /** Resolves after a CONNACK with return code 0; rejects on refusal, error or timeout. */
  static connect(o: LeanConnectOptions): Promise<LeanPublisher> {
    return new Promise((resolve, reject) => {
      const socket = tcpConnect({ host: o.host, port: o.port, noDelay: true });
      const client = new LeanPublisher(socket);
      let connected = false;
      const timer = setTimeout(() => fail(new Error(`no CONNACK within ${o.connectTimeoutMs} ms`)), o.connectTimeoutMs);
      const fail = (error: Error): void => {
        clearTimeout(timer);
        if (!connected) {
          socket.destroy();
          reject(error);
        }
      };
      socket.once('error', fail);
      socket.on('close', () => {
        if (!connected) fail(new Error('connection closed before CONNACK'));
        else client.end(true);
      });
      socket.on('data', (chunk: Buffer) => {
        client.read(chunk, (returnCode) => {
          clearTimeout(timer);
          if (returnCode !== 0) return fail(new Error(`CONNACK return code ${returnCode}`));
          connected = true;
          socket.removeListener('error', fail);
          socket.on('error', () => client.end(true));
          client.ping = setInterval(() => socket.write(PINGREQ), Math.max(1, o.keepalive / 2) * 1_000);
          client.ping.unref();
          resolve(client);
        });
      });
      socket.once('connect', () => socket.write(connectPacket(o)));
    });
  }

  /** Messages published and not acknowledged yet. */
  get unacknowledged(): number {
    return this.inflight;
  }

  /**
   * Publishes `payload` (UTF-8) on `topic` (pre-encoded with topicField) at QoS 1; `onAck` runs on its PUBACK. Up to
   * 65,535 messages may be unacknowledged (MQTT packet ids); the caller keeps its window below that.
   */
  publish(topic: Buffer, payload: string, onAck: () => void): boolean {
    if (this.closed) return false;
    do this.nextId = (this.nextId % 65_535) + 1;
    while (this.acks[this.nextId] !== undefined);
    const id = this.nextId;
    const payloadBytes = Buffer.byteLength(payload, 'utf8');
    const remaining = topic.length + 2 + payloadBytes;
    const packet = Buffer.allocUnsafe(1 + varintLength(remaining) + remaining);
    packet[0] = 0x32; // PUBLISH, QoS 1
    let at = writeVarint(packet, 1, remaining);
    at += topic.copy(packet, at);
    packet[at++] = id >> 8;
    packet[at++] = id & 0xff;
    packet.write(payload, at, 'utf8');
    this.acks[id] = onAck;
    this.inflight++;
    this.write(packet);
    return true;
  }

  /** DISCONNECT and close (force: just destroy the socket). Unacknowledged callbacks are dropped. */
  end(force = false): Promise<void> {
    if (this.ping) clearInterval(this.ping);
    if (this.closed) return Promise.resolve();
    this.closed = true;
    this.inflight = 0; // those will never be acknowledged on this connection
    this.acks.fill(undefined);
    this.onClose?.();
    if (force || this.socket.destroyed) {
      this.socket.destroy();
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.socket.end(DISCONNECT, () => resolve());
      this.socket.once('close', () => resolve());
    });
  }

  /** One socket write per event-loop turn: the packets of a turn are corked and flushed together. */
  private write(packet: Buffer): void {
    if (!this.corked) {
      this.corked = true;
      this.socket.cork();
      process.nextTick(() => {
        this.corked = false;
        this.socket.uncork();
      });
    }
    this.socket.write(packet);
  }

  /** Frames incoming packets (a chunk may hold several or part of one). */
  private read(chunk: Buffer, onConnack: (returnCode: number) => void): void {
    const buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    let at = 0;
    while (at < buf.length) {
      // Fixed header: type byte, then the remaining length as a varint of up to 4 bytes.
      let length = 0;
      let multiplier = 1;
      let i = at + 1;
      let complete = false;
      while (i < buf.length && i < at + 5) {
        const byte = buf[i++]!;
        length += (byte & 0x7f) * multiplier;
        multiplier *= 128;
        if ((byte & 0x80) === 0) {
          complete = true;
          break;
        }
      }
      if (!complete || i + length > buf.length) break;
      const type = buf[at]! & 0xf0;
      if (type === PUBACK) {
        const id = (buf[i]! << 8) | buf[i + 1]!;
        const cb = this.acks[id];
        if (cb) {
          this.acks[id] = undefined;
          this.inflight--;
          cb();
        }
      } else if (type === CONNACK) {
        onConnack(buf[i + 1]!);
      }
      // PINGRESP, and anything else a publisher without subscriptions does not expect, is skipped.
      at = i + length;
    }
    if (at < buf.length) this.pending = Buffer.from(buf.subarray(at));
  }
}

/** A topic as the PUBLISH variable header carries it (length-prefixed UTF-8), encoded once per vehicle. */
export function topicField(topic: string): Buffer {
  return utf8Field(topic);
}
