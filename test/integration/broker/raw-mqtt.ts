// Hand-built MQTT 3.1.1 packets for the hostile-client tests: byte-exact, so a test can truncate them, lie about
// their length or put invalid UTF-8 where a string belongs. (Valid ones match what any client library sends.)
import { connect, type Socket } from 'node:net';

export function remainingLength(n: number): Buffer {
  const bytes: number[] = [];
  do {
    let byte = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) byte |= 0x80;
    bytes.push(byte);
  } while (n > 0);
  return Buffer.from(bytes);
}

const str = (s: string | Buffer): Buffer => {
  const b = Buffer.isBuffer(s) ? s : Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};

export function connectPacket(clientId: string, username: string, password: string, keepaliveS = 30): Buffer {
  const variable = Buffer.concat([str('MQTT'), Buffer.from([4, 0b1100_0010]), Buffer.from([keepaliveS >> 8, keepaliveS & 0xff])]);
  const payload = Buffer.concat([str(clientId), str(username), str(password)]);
  const body = Buffer.concat([variable, payload]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(body.length), body]);
}

export function publishPacket(topic: string | Buffer, payload: Buffer | string, qos: 0 | 1 = 0, messageId = 1): Buffer {
  const id = qos > 0 ? Buffer.from([messageId >> 8, messageId & 0xff]) : Buffer.alloc(0);
  const body = Buffer.concat([str(topic), id, Buffer.isBuffer(payload) ? payload : Buffer.from(payload)]);
  return Buffer.concat([Buffer.from([0x30 | (qos << 1)]), remainingLength(body.length), body]);
}

export const DISCONNECT = Buffer.from([0xe0, 0x00]);

/** A raw TCP connection that records what the broker sent and when it closed. */
export interface RawConnection {
  socket: Socket;
  received: () => Buffer;
  closed: Promise<void>;
  isClosed: () => boolean;
}

export function rawConnect(port: number): Promise<RawConnection> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    let closed = false;
    socket.on('data', (d: Buffer) => chunks.push(d));
    socket.on('error', () => undefined); // ECONNRESET / EPIPE are expected outcomes here
    const closedPromise = new Promise<void>((r) => socket.once('close', () => ((closed = true), r())));
    socket.once('connect', () => resolve({ socket, received: () => Buffer.concat(chunks), closed: closedPromise, isClosed: () => closed }));
    socket.once('error', reject);
  });
}

/** CONNECTs and waits for the CONNACK; resolves with its return code. */
export async function rawLogin(port: number, id: string, secret: string): Promise<RawConnection & { returnCode: number }> {
  const conn = await rawConnect(port);
  conn.socket.write(connectPacket(id, id, secret));
  const started = Date.now();
  while (conn.received().length < 4) {
    if (conn.isClosed() || Date.now() - started > 5_000) throw new Error('no CONNACK');
    await new Promise((r) => setTimeout(r, 5));
  }
  return { ...conn, returnCode: conn.received()[3]! };
}
