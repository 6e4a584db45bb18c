// The firmware's MQTT side, one client per vehicle (SPEC §3): client id = username = vehicle id, QoS 1, a retained
// `fleet/{vid}/status` and a retained Last Will, store-and-forward through a bounded buffer flushed as arrays of at
// most 1000 samples, and reconnection with exponential backoff and jitter.
//
// Delivery is at least once: a message counts as delivered only when its PUBACK arrives. Messages in flight when the
// connection drops go back to the front of the buffer and are sent again (the backend de-duplicates on ts + seq).
import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { eventsTopic, statusTopic, telemetryTopic } from '@fleet/contracts';
import type { Rng } from '../random.js';
import { SampleBuffer } from './sample-buffer.js';

export interface VehicleCredentials {
  username: string;
  password: string;
  clientId: string;
  /** Overrides the fleet's broker URL (a provisioning answer names host and port per vehicle). */
  url?: string;
}

export interface VehicleClientOptions {
  url: string;
  vehicleId: string;
  credentials: VehicleCredentials;
  fw: string;
  rng: Rng;
  /** Store-and-forward capacity, samples. */
  bufferCapacity: number;
  /** Largest array per message (SPEC: 1000). */
  maxBatch: number;
  /** Largest payload per message, bytes (kept under the broker's 256 KiB limit). */
  maxBatchBytes: number;
  /** Messages this client may have awaiting PUBACK. */
  inflight: number;
  /** Shared across the fleet in backfill: a bound on all messages in flight. */
  window?: InflightWindow;
  backoff?: { initialMs: number; maxMs: number };
  connectTimeoutMs?: number;
  keepaliveS?: number;
  /** Decides per connection attempt whether to present a wrong password (fault injection). */
  wrongCredentials?: () => boolean;
  log?: (message: string) => void;
}

export interface ClientStats {
  connected: boolean;
  connects: number;
  /** Connection attempts that failed (refused, timed out, broker gone). */
  failedConnects: number;
  messagesAcked: number;
  samplesAcked: number;
  eventsAcked: number;
  rawAcked: number;
  bytesAcked: number;
  buffered: number;
  dropped: number;
  inflight: number;
  /** Largest backlog flushed in one message after a reconnect. */
  largestBatch: number;
}

type Channel = 'telemetry' | 'events' | 'raw';

interface InFlight {
  channel: Channel;
  items: string[];
  bytes: number;
}

/** A fleet-wide bound on messages awaiting PUBACK; waiters are served in order. */
export class InflightWindow {
  private used = 0;
  private readonly waiters: Array<() => void> = [];

  constructor(readonly size: number) {}

  get inUse(): number {
    return this.used;
  }

  tryAcquire(): boolean {
    if (this.used >= this.size) return false;
    this.used++;
    return true;
  }

  release(): void {
    this.used = Math.max(0, this.used - 1);
    const next = this.waiters.shift();
    if (next) next();
  }

  /** Calls `wake` once when a slot may be free. */
  wait(wake: () => void): void {
    this.waiters.push(wake);
  }
}

export const ONLINE_STATUS = (fw: string): string => JSON.stringify({ v: 1, online: true, fw });
export const OFFLINE_STATUS = JSON.stringify({ v: 1, online: false });

export class VehicleClient {
  private client: MqttClient | undefined;
  private generation = 0;
  private readonly samples: SampleBuffer;
  private readonly events: SampleBuffer;
  private readonly raw: SampleBuffer;
  private readonly inflight = new Map<number, InFlight>();
  private nextId = 0;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private waitingForWindow = false;
  private readonly drainWaiters: Array<() => void> = [];
  private readonly topics: { telemetry: string; events: string; status: string };
  readonly stats: ClientStats = {
    connected: false,
    connects: 0,
    failedConnects: 0,
    messagesAcked: 0,
    samplesAcked: 0,
    eventsAcked: 0,
    rawAcked: 0,
    bytesAcked: 0,
    buffered: 0,
    dropped: 0,
    inflight: 0,
    largestBatch: 0,
  };

  constructor(private readonly options: VehicleClientOptions) {
    this.samples = new SampleBuffer(options.bufferCapacity);
    this.events = new SampleBuffer(Math.max(100, Math.ceil(options.bufferCapacity / 10)));
    this.raw = new SampleBuffer(100);
    this.topics = {
      telemetry: telemetryTopic(options.vehicleId),
      events: eventsTopic(options.vehicleId),
      status: statusTopic(options.vehicleId),
    };
  }

  get connected(): boolean {
    return this.stats.connected;
  }

  /** Samples waiting to be sent (buffered, not in flight). */
  get backlog(): number {
    return this.samples.length;
  }

  start(): void {
    this.connect();
  }

  sendSample(json: string): void {
    this.samples.push(json);
    this.pump();
  }

  sendEvent(json: string): void {
    this.events.push(json);
    this.pump();
  }

  /** An extra message published as is (fault injection: malformed, oversize). */
  sendRaw(payload: string): void {
    this.raw.push(payload);
    this.pump();
  }

  /** Resolves once nothing is buffered or in flight (or after timeoutMs). */
  drained(timeoutMs: number): Promise<boolean> {
    if (this.isDrained()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), timeoutMs);
      this.drainWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  /**
   * Stops like a vehicle switched off: waits (bounded) for the backlog, publishes the retained offline status (a
   * clean DISCONNECT suppresses the Last Will, so the status is set explicitly), disconnects.
   */
  async stop(drainTimeoutMs = 5000): Promise<void> {
    if (this.connected) await this.drained(drainTimeoutMs);
    this.stopping = true;
    clearTimeout(this.reconnectTimer);
    const client = this.client;
    this.client = undefined;
    if (!client) return;
    if (this.stats.connected) {
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 2000);
        client.publish(this.topics.status, OFFLINE_STATUS, { qos: 1, retain: true }, () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
    this.stats.connected = false;
    await new Promise<void>((resolve) => client.end(false, {}, () => resolve()));
  }

  private isDrained(): boolean {
    return this.samples.length === 0 && this.events.length === 0 && this.raw.length === 0 && this.inflight.size === 0;
  }

  private connect(): void {
    if (this.stopping) return;
    const o = this.options;
    const generation = ++this.generation;
    const wrong = o.wrongCredentials?.() ?? false;
    const opts: IClientOptions = {
      clientId: o.credentials.clientId,
      username: o.credentials.username,
      password: wrong ? `${o.credentials.password}-wrong` : o.credentials.password,
      protocolVersion: 4,
      clean: true,
      keepalive: o.keepaliveS ?? 30,
      connectTimeout: o.connectTimeoutMs ?? 10_000,
      // Reconnection is ours (backoff + jitter, fresh credentials per attempt); MQTT.js must not retry on its own.
      reconnectPeriod: 0,
      will: { topic: this.topics.status, payload: Buffer.from(OFFLINE_STATUS), qos: 1, retain: true },
    };
    const client = mqtt.connect(o.credentials.url ?? o.url, opts);
    this.client = client;
    let opened = false;
    client.on('connect', () => {
      if (generation !== this.generation) return;
      opened = true;
      this.attempt = 0;
      this.stats.connects++;
      this.stats.connected = true;
      client.publish(this.topics.status, ONLINE_STATUS(o.fw), { qos: 1, retain: true });
      this.pump();
    });
    client.on('error', (error) => {
      if (generation !== this.generation) return;
      o.log?.(`${o.vehicleId}: ${error.message}`);
    });
    client.on('close', () => {
      if (generation !== this.generation) return;
      this.onClosed(client, opened);
    });
  }

  private onClosed(client: MqttClient, opened: boolean): void {
    this.generation++; // callbacks of this connection no longer count
    this.stats.connected = false;
    if (!opened) this.stats.failedConnects++;
    this.requeueInflight();
    client.removeAllListeners();
    client.on('error', () => undefined);
    client.end(true);
    if (this.stopping) return;
    // Exponential backoff with "equal jitter": half the delay fixed, half random, so a fleet does not reconnect in step.
    const { initialMs, maxMs } = this.options.backoff ?? { initialMs: 500, maxMs: 30_000 };
    const base = Math.min(maxMs, initialMs * 2 ** Math.min(this.attempt, 16));
    const delay = base / 2 + (base / 2) * this.options.rng.next();
    this.attempt++;
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  /** Unacknowledged samples and events go back to the front of their buffers, oldest first. */
  private requeueInflight(): void {
    const pending = [...this.inflight.entries()].sort((a, b) => a[0] - b[0]).map(([, m]) => m);
    this.inflight.clear();
    for (const m of pending) this.options.window?.release();
    // Injected raw faults are fire-and-forget: an oversize packet makes the broker drop the connection, and resending it
    // would do so forever.
    for (const channel of ['telemetry', 'events'] as const) {
      const items = pending.filter((m) => m.channel === channel).flatMap((m) => m.items);
      this.buffer(channel).unshift(items);
    }
    this.updateStats();
  }

  private buffer(channel: Channel): SampleBuffer {
    return channel === 'telemetry' ? this.samples : channel === 'events' ? this.events : this.raw;
  }

  private pump(): void {
    const client = this.client;
    if (!client || !this.stats.connected) {
      this.updateStats();
      return;
    }
    const o = this.options;
    while (this.inflight.size < o.inflight) {
      const channel: Channel | undefined = this.raw.length > 0 ? 'raw' : this.events.length > 0 ? 'events' : this.samples.length > 0 ? 'telemetry' : undefined;
      if (!channel) break;
      if (o.window && !o.window.tryAcquire()) {
        if (!this.waitingForWindow) {
          this.waitingForWindow = true;
          o.window.wait(() => {
            this.waitingForWindow = false;
            this.pump();
          });
        }
        break;
      }
      const items = channel === 'raw' ? this.raw.take(1, Infinity) : this.buffer(channel).take(o.maxBatch, o.maxBatchBytes);
      // One element goes out as a plain object (the live habit); a backlog goes out as an array.
      const payload = channel === 'raw' || items.length === 1 ? (items[0] as string) : `[${items.join(',')}]`;
      const id = this.nextId++;
      const bytes = Buffer.byteLength(payload);
      this.inflight.set(id, { channel, items, bytes });
      if (channel === 'telemetry') this.stats.largestBatch = Math.max(this.stats.largestBatch, items.length);
      const generation = this.generation;
      const topic = channel === 'events' ? this.topics.events : this.topics.telemetry;
      client.publish(topic, payload, { qos: 1 }, (error) => {
        if (generation !== this.generation) return; // requeued already when the connection closed
        const m = this.inflight.get(id);
        if (!m) return;
        this.inflight.delete(id);
        o.window?.release();
        if (error) {
          this.buffer(m.channel).unshift(m.items);
        } else {
          this.stats.messagesAcked++;
          this.stats.bytesAcked += m.bytes;
          if (m.channel === 'telemetry') this.stats.samplesAcked += m.items.length;
          else if (m.channel === 'events') this.stats.eventsAcked += m.items.length;
          else this.stats.rawAcked++;
        }
        this.pump();
      });
    }
    this.updateStats();
    if (this.isDrained()) for (const wake of this.drainWaiters.splice(0)) wake();
  }

  private updateStats(): void {
    this.stats.buffered = this.samples.length;
    this.stats.dropped = this.samples.dropped;
    this.stats.inflight = this.inflight.size;
  }
}
