// Sits between a socket and aedes and enforces the maximum MQTT packet size before anything is buffered: it reads
// each fixed header (type + variable-length "remaining length") as the bytes stream past, and destroys the
// connection the moment a header announces a packet larger than the limit. aedes' parser (mqtt-packet) has no
// limit and would otherwise accumulate a 100 MB PUBLISH in memory before looking at it.
import { Duplex } from 'node:stream';

export type GuardViolation = 'packet_too_large' | 'malformed_length';

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

const enum Phase {
  Type,
  Length,
  Body,
}

const DISCONNECT = 14;

export class PacketSizeGuard extends Duplex {
  /** The client sent a DISCONNECT packet (MQTT's clean goodbye); read when the connection ends. */
  sawDisconnect = false;
  readonly remoteAddress: string | undefined;

  private phase = Phase.Type;
  private packetType = 0;
  private length = 0;
  private multiplier = 1;
  private lengthBytes = 0;
  private remaining = 0;
  private stopped = false;
  private corked = false;

  constructor(
    private readonly inner: Duplex,
    private readonly maxPacketSize: number,
    private readonly onViolation: (kind: GuardViolation, error: Error) => void,
    remoteAddress?: string,
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

  private onData(chunk: Buffer): void {
    if (this.destroyed) return;
    const violation = this.scan(chunk);
    if (violation) {
      this.inner.pause();
      this.onViolation(violation instanceof PacketTooLargeError ? 'packet_too_large' : 'malformed_length', violation);
      this.destroy(violation);
      return;
    }
    if (!this.push(chunk)) this.inner.pause();
  }

  /** Advances the header state machine over `chunk`; returns an error at the first header that breaks a limit. */
  private scan(chunk: Buffer): Error | undefined {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.phase) {
        case Phase.Type:
          this.packetType = chunk[i++]! >> 4;
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
          if (size > this.maxPacketSize) return new PacketTooLargeError(size, this.maxPacketSize);
          if (this.packetType === DISCONNECT) this.sawDisconnect = true;
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
      }
    }
    return undefined;
  }
}
