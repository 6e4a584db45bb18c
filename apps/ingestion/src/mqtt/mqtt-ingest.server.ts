// The distributed-mode source: a Nest custom transport strategy owning one MQTT.js client (QoS 1, persistent session,
// fixed client id, `$share/<group>/…` subscriptions) that acknowledges each PUBLISH only after its commit.
//
// Why not Nest's built-in MQTT transport: ServerMqtt listens to MQTT.js's 'message' event, which MQTT.js emits and
// then PUBACKs as soon as the default handleMessage calls back — before any handler ran — so a crash after the PUBACK
// would lose the message. Why not simply "call handleMessage's done after commit": MQTT.js processes incoming
// packets one at a time, waiting for that callback (client.js `work()` → `nextTickWork`), so a worker would commit
// one message per batch timer. Instead, `done` is called as soon as the message holds a place in the pipeline
// (admission — this is where backpressure stops reading from the socket), and the PUBACK that MQTT.js then sends is
// held back (`_sendPacket` is wrapped) until the message's batch has committed. PUBACKs of a connection that has
// since dropped are discarded: the broker redelivers those messages on the new session and the unique key absorbs them.
// A held PUBACK belongs to one delivery, not to a message id: MQTT.js sends it synchronously from inside `done`, so
// the delivery being released is known at that moment. (Keyed by message id, a delivery admitted after a reconnect
// took over the entry of its own redelivered copy, whose PUBACK then went out before any commit.)
// `_sendPacket` is MQTT.js internal API (pinned by package-lock; the integration test "PUBACK only after commit"
// fails if it changes).
import { Server, type CustomTransportStrategy } from '@nestjs/microservices';
import { EVENTS_FILTER, parseTopic, sharedSubscription, STATUS_FILTER, TELEMETRY_FILTER } from '@fleet/contracts';
import mqtt, { type IClientOptions, type IPublishPacket, type MqttClient } from 'mqtt';
import type { Logger } from 'pino';
import { lastValueFrom } from 'rxjs';
import type { IngestMessage } from '../pipeline/ingestion-pipeline.js';

/** The Nest pattern of the ingest handler (see ingest.controller.ts). */
export const INGEST_PATTERN = 'specfleet.ingest';

/** What the ingest handler returns: admission and commit of one message. */
export interface IngestAdmission {
  admitted: Promise<void>;
  committed: Promise<void>;
}

export interface MqttIngestServerOptions {
  url: string;
  /** Fixed, so the broker keeps the session (and the QoS 1 messages queued for it) across restarts. */
  clientId: string;
  username?: string;
  password?: string;
  /** `$share/<group>/…` when set (N workers split the stream); empty/undefined for plain subscriptions. */
  sharedGroup?: string;
  /** Topic filters. Default: telemetry, events, status of every vehicle. */
  filters?: readonly string[];
  keepaliveS?: number;
  reconnectPeriodMs?: number;
  /** On close, how long admitted messages may take to commit (and be acknowledged) before disconnecting. Default 10 s. */
  closeTimeoutMs?: number;
  logger: Logger;
  /** Extra MQTT.js options (TLS, WebSocket). */
  mqttOptions?: Partial<IClientOptions>;
}

function isAdmission(value: unknown): value is IngestAdmission {
  return typeof value === 'object' && value !== null && 'admitted' in value && 'committed' in value;
}

type SendPacket = (packet: { cmd: string; messageId?: number }, cb?: (err?: Error) => void, cbStorePut?: () => void, noStore?: boolean) => void;

export class MqttIngestServer extends Server implements CustomTransportStrategy {
  private client: MqttClient | undefined;
  /** Incremented on every (re)connect: a PUBACK is only valid on the connection that received the PUBLISH. */
  private generation = 0;
  /** The delivery whose `done` is being called: MQTT.js sends its PUBACK from inside that call. */
  private releasing: { readonly messageId: number; readonly outcome: Promise<boolean>; readonly generation: number } | undefined;
  private readonly inflight = new Set<Promise<unknown>>();
  private listening = false;

  constructor(private readonly opts: MqttIngestServerOptions) {
    super();
  }

  /** The MQTT.js client (for tests and health). */
  unwrap<T>(): T {
    return this.client as T;
  }

  on(): void {
    throw new Error('MqttIngestServer does not expose events');
  }

  listen(callback: (...optionalParams: unknown[]) => unknown): void {
    const o = this.opts;
    const client = mqtt.connect(o.url, {
      protocolVersion: 4,
      clientId: o.clientId,
      clean: false,
      keepalive: o.keepaliveS ?? 30,
      reconnectPeriod: o.reconnectPeriodMs ?? 1_000,
      ...(o.username !== undefined ? { username: o.username } : {}),
      ...(o.password !== undefined ? { password: o.password } : {}),
      ...o.mqttOptions,
    });
    this.client = client;
    this.holdPubacks(client);
    client.handleMessage = (packet, done) => this.onPublish(packet as IPublishPacket, done);

    client.on('connect', (connack) => {
      this.generation++;
      o.logger.info({ event: 'mqtt_connected', sessionPresent: connack.sessionPresent, clientId: o.clientId }, 'ingestion subscribed to the broker');
      const filters = (o.filters ?? [TELEMETRY_FILTER, EVENTS_FILTER, STATUS_FILTER]).map((f) => (o.sharedGroup ? sharedSubscription(o.sharedGroup, f) : f));
      // Re-subscribing on a present session is harmless and covers a broker that lost it.
      client.subscribe(filters.map(String), { qos: 1 }, (err, granted) => {
        const refused = (granted ?? []).filter((g) => g.qos === 128).map((g) => g.topic);
        if (err) o.logger.error({ event: 'mqtt_subscribe_failed', err: err.message }, 'subscribe failed');
        else if (refused.length > 0) o.logger.error({ event: 'mqtt_subscribe_refused', refused }, 'broker refused a subscription');
        if (!this.listening) {
          // A worker that cannot subscribe receives nothing, while the broker goes on acknowledging what vehicles
          // publish: at start-up that is fatal (listen rejects), not a warning in a log nobody reads.
          // MQTT.js 5 reports a SUBACK 0x80 as `err` ("Subscribe error: …"), without the granted list.
          if (err || refused.length > 0) {
            const why = o.sharedGroup
              ? `the broker may have no shared subscriptions ($share/…; specfleet's own broker has none): set INGEST_SHARED_GROUP=none for plain subscriptions`
              : `check the service account (INGEST_MQTT_USERNAME) and what the broker lets it subscribe to`;
            const what = refused.length > 0 ? refused : filters.map(String);
            callback(new Error(`the broker refused the subscription to ${what.join(', ')} (${err?.message ?? 'SUBACK 0x80'}): ${why}`));
            return;
          }
          this.listening = true;
          callback();
        }
      });
    });
    client.on('close', () => {
      this.generation++;
    });
    client.on('error', (err) => o.logger.warn({ event: 'mqtt_error', err: err.message }, 'MQTT client error'));
  }

  async close(): Promise<void> {
    const client = this.client;
    // Let the commits of messages already admitted finish and their PUBACKs go out before disconnecting — but not
    // forever: with the database down they stay unacknowledged and the broker keeps them for the next session.
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      Promise.allSettled([...this.inflight]),
      new Promise((resolve) => (timer = setTimeout(resolve, this.opts.closeTimeoutMs ?? 10_000))),
    ]);
    clearTimeout(timer);
    if (client) await client.endAsync(this.inflight.size > 0);
  }

  private onPublish(packet: IPublishPacket, done: (error?: Error) => void): void {
    const handler = this.getHandlerByPattern(INGEST_PATTERN);
    const parsed = parseTopic(packet.topic);
    const message: IngestMessage = {
      vehicleId: parsed?.vehicleId,
      channel: parsed?.channel,
      topic: packet.topic,
      payload: typeof packet.payload === 'string' ? Buffer.from(packet.payload) : packet.payload,
      receivedAt: new Date(),
    };
    if (!handler) {
      done(new Error(`no handler for ${INGEST_PATTERN}`));
      return;
    }
    const generation = this.generation;
    let resolveOutcome!: (ok: boolean) => void;
    // True only if this delivery committed while its connection is still the current one.
    const outcome = new Promise<boolean>((resolve) => (resolveOutcome = resolve));

    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.releasing = packet.qos > 0 && packet.messageId !== undefined ? { messageId: packet.messageId, outcome, generation } : undefined;
      try {
        done();
      } finally {
        this.releasing = undefined;
      }
    };
    const work = (async () => {
      const admission = await lastValueFrom(this.transformToObservable(await handler(message)), { defaultValue: undefined });
      if (!isAdmission(admission)) throw new Error(`${INGEST_PATTERN} handler must return { admitted, committed }`);
      await admission.admitted;
      // The message holds a place in the pipeline: let MQTT.js read the next packet (its PUBACK is held).
      release();
      await admission.committed;
    })();
    this.inflight.add(work);
    work.then(
      () => resolveOutcome(generation === this.generation),
      (error: unknown) => {
        resolveOutcome(false);
        this.opts.logger.warn({ event: 'ingest_refused', topic: packet.topic, err: (error as Error).message }, 'not committed: no PUBACK; reconnecting so the broker redelivers');
        // An un-acked message stays in the broker's in-flight window until the next session; reconnect to get it back.
        if (generation === this.generation) this.client?.stream?.destroy();
        release();
      },
    ).finally(() => this.inflight.delete(work));
  }

  private holdPubacks(client: MqttClient): void {
    const target = client as unknown as { _sendPacket: SendPacket };
    const send = target._sendPacket.bind(client) as SendPacket;
    target._sendPacket = (packet, cb, cbStorePut, noStore) => {
      if (packet.cmd !== 'puback' || packet.messageId === undefined) return send(packet, cb, cbStorePut, noStore);
      const delivery = this.releasing;
      if (delivery === undefined || delivery.messageId !== packet.messageId) return send(packet, cb, cbStorePut, noStore);
      this.releasing = undefined;
      cb?.(); // MQTT.js may go on reading; the PUBACK itself waits for the commit.
      // The outcome is false when the delivery's connection dropped before its commit: then nothing is sent, on no
      // connection (the broker redelivers it on the new session, and the unique key absorbs the copy).
      void delivery.outcome.then((ok) => {
        if (ok && delivery.generation === this.generation && client.connected) send(packet, undefined, undefined, noStore);
      });
    };
  }
}
