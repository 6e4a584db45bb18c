// authorizePublish: the ACL for PUBLISH, the per-client rate limit, and the durable write. aedes writes the QoS 1
// PUBACK right after this hook calls back (lib/handlers/publish.js: runSeries [authorizePublish, enqueuePublish];
// enqueuePublish case 1 writes PubAck, then broker.publish), so committing here is what makes "PUBACK ⇒ stored"
// true. An error in the callback makes aedes drop the packet without PUBACK and close the connection (clientError);
// the client resends unacknowledged QoS 1 messages when it reconnects (MQTT 3.1.1 §4.4).
// With a durable persistence (distributed mode), `enqueueBeforeAck` then queues the message for the persistent
// sessions on disk, also before the PUBACK (see persistence/broker-persistence.ts for why aedes' own enqueue is late).
import type { Client, PublishPacket } from 'aedes';
import type { Logger } from 'pino';
import { parseTopic } from '@fleet/contracts';
import { authorizePublishTopic } from '../acl.js';
import type { BrokerOptions } from '../broker.options.js';
import { BrokerRefusal, type ClientSessions, forLog } from '../client-sessions.js';
import type { BrokerMetrics } from '../metrics.js';
import type { IngestChannel, IngestSink } from '../ports.js';
import { DeadlineQueue } from '../limits/deadline-queue.js';
import { readOversizeStandIn, type OversizeStandIn } from '../limits/packet-size-guard.js';

export interface AuthorizePublishDeps {
  options: Pick<BrokerOptions, 'publishMaxDelayMs' | 'ingestTimeoutMs'>;
  ingest: IngestSink;
  sessions: ClientSessions;
  metrics: BrokerMetrics;
  logger: Logger;
  /** Counts commits in flight, so shutdown can wait for them. */
  inflight: { add(promise: Promise<unknown>): void };
  /** Durable queueing for persistent sessions, run for every accepted QoS > 0 PUBLISH right before its PUBACK. */
  enqueueBeforeAck?: (packet: PublishPacket) => Promise<void>;
  /**
   * The marker of this broker's oversize stand-ins (PacketSizeGuard), when it makes them: a vehicle's stand-in goes to
   * the sink as an oversize message (dead-lettered there, then acknowledged); anyone else's is refused.
   */
  oversizeMarker?: Buffer;
}

const INGEST_CHANNELS = new Set<string>(['telemetry', 'events', 'status', 'cmd/ack']);
/** Where an oversize stand-in goes once dead-lettered: nowhere (see commit). */
const DEAD_LETTERED_TOPIC = '$specfleet/dead-lettered';
const EMPTY = Buffer.alloc(0);

export function createAuthorizePublishHook(deps: AuthorizePublishDeps) {
  const { options, ingest, sessions, metrics, logger } = deps;

  function deny(callback: (error?: Error | null) => void, client: Client | null, topic: string, reason: 'publish_denied' | 'qos_denied' | 'rate_limited' | 'packet_too_large', detail: string): void {
    metrics.refuse(reason);
    logger.warn({ event: reason, clientId: forLog(client?.id), topic: forLog(topic), detail }, 'MQTT publish refused');
    callback(new BrokerRefusal(`publish refused: ${reason} (${detail})`, reason));
  }

  /** Calls back with success once the message is queued durably (when that applies), else refuses it unacknowledged. */
  function acknowledge(client: Client, packet: PublishPacket, callback: (error?: Error | null) => void): void {
    const enqueue = deps.enqueueBeforeAck;
    if (!enqueue || packet.qos === 0) return callback(null);
    const queued = enqueue(packet);
    deps.inflight.add(queued);
    queued.then(
      () => callback(null),
      (error: unknown) => {
        metrics.refuse('enqueue_failed');
        logger.error({ event: 'enqueue_failed', clientId: forLog(client.id), topic: forLog(packet.topic), qos: packet.qos, err: error }, 'not queued durably: no PUBACK, closing the connection so the client resends');
        callback(new BrokerRefusal('publish not queued durably; the client must resend', 'enqueue_failed'));
      },
    );
  }

  // Label children resolved once: prom-client hashes the label object on every observe()/inc() otherwise.
  const committedSeconds = metrics.ingestSeconds.labels({ outcome: 'committed' });
  const failedSeconds = metrics.ingestSeconds.labels({ outcome: 'failed' });
  const received = new Map<string, { inc(): void }>();
  const receivedOn = (channel: string): { inc(): void } => {
    let counter = received.get(channel);
    if (!counter) received.set(channel, (counter = metrics.publishesReceived.labels({ channel })));
    return counter;
  };
  const deadlines = new DeadlineQueue(options.ingestTimeoutMs);

  function commit(client: Client, packet: PublishPacket, vehicleId: string, channel: IngestChannel, oversize: OversizeStandIn | undefined, callback: (error?: Error | null) => void): void {
    const started = performance.now();
    let settled = false;
    const fail = (error: unknown): void => {
      failedSeconds.observe((performance.now() - started) / 1000);
      metrics.refuse('ingest_failed');
      logger.warn({ event: 'ingest_failed', clientId: forLog(client.id), topic: forLog(packet.topic), qos: packet.qos, err: error }, 'not committed: no PUBACK, closing the connection so the client resends');
      callback(new BrokerRefusal('publish not committed; the client must resend', 'ingest_failed'));
    };
    const deadline = deadlines.add(() => {
      settled = true;
      fail(new Error(`not committed within ${options.ingestTimeoutMs} ms`));
    });
    let write: Promise<void>;
    try {
      write = ingest.ingest(
        oversize
          ? { vehicleId, channel, topic: packet.topic, payload: oversize.kept, receivedAt: new Date(), oversizeBytes: oversize.packetBytes }
          : { vehicleId, channel, topic: packet.topic, payload: toBuffer(packet.payload), receivedAt: new Date() },
      );
    } catch (error) {
      // A sink that throws instead of rejecting: refuse once here and drop the deadline, which would otherwise call
      // aedes back a second time when it expires.
      settled = true;
      deadline.cancel();
      return fail(error);
    }
    deps.inflight.add(write);
    write.then(
      () => {
        if (settled) return; // timed out first: already refused
        settled = true;
        deadline.cancel();
        committedSeconds.observe((performance.now() - started) / 1000);
        receivedOn(channel).inc();
        if (oversize) {
          // Dead-lettered: acknowledged, and then routed by aedes to no one: every filter the subscribe ACL grants
          // lies under fleet/, so nothing is delivered, retained or queued for a persistent session (now or after a
          // restart, when the forward hook's marker is another) — and enqueueBeforeAck has nothing to queue.
          packet.topic = DEAD_LETTERED_TOPIC;
          packet.payload = EMPTY;
          return callback(null);
        }
        acknowledge(client, packet, callback);
      },
      (error: unknown) => {
        if (settled) return;
        settled = true;
        deadline.cancel();
        fail(error);
      },
    );
  }

  return function authorizePublish(client: Client | null, packet: PublishPacket, callback: (error?: Error | null) => void): void {
    try {
      const session = sessions.get(client);
      if (!session) {
        // client === null: a Last Will persisted by another (dead) broker instance; only a status topic qualifies.
        if (client === null && parseTopic(packet.topic)?.channel === 'status') return callback(null);
        return deny(callback, client, packet.topic, 'publish_denied', 'no session');
      }
      const decision = authorizePublishTopic(session.principal, packet.topic);
      if (!decision.allowed) return deny(callback, client, packet.topic, 'publish_denied', decision.reason);
      const { channel, vehicleId } = decision.parsed;
      // Only status is retained (it is the connectivity record); a retained telemetry message would only pile up.
      if (packet.retain && channel !== 'status') packet.retain = false;
      // The Last Will is published by aedes while closing the client: no rate limit, nothing to commit.
      if (client!.closed) return callback(null);
      // SPEC §3 is QoS 1 on every topic. aedes keeps each inbound QoS 2 packet (payload included) until its PUBREL
      // (publish.js incomingStorePacket), and nothing bounds that store across reconnects of a persistent session:
      // maxInflightInbound counts per connection and cleanIncoming only runs for clean sessions. MQTT 3.1.1 cannot
      // downgrade an inbound QoS, so the PUBLISH is refused (no PUBREC) and the connection closes like any refusal.
      if (packet.qos === 2 && session.principal.kind === 'vehicle') return deny(callback, client, packet.topic, 'qos_denied', 'QoS 2 not supported, use QoS 1');

      const oversize = deps.oversizeMarker ? readOversizeStandIn(toBuffer(packet.payload), deps.oversizeMarker) : undefined;
      const stored = session.principal.kind === 'vehicle' && INGEST_CHANNELS.has(channel);
      // Only the sink can say what was wrong with an oversize message (a dead letter); elsewhere it is refused as
      // the packet limit always refused it.
      if (oversize && !stored) return deny(callback, client, packet.topic, 'packet_too_large', `${oversize.packetBytes} bytes`);
      const proceed = (): void => {
        if (stored) {
          commit(client!, packet, vehicleId, channel as IngestChannel, oversize, callback);
        } else {
          receivedOn(channel).inc();
          acknowledge(client!, packet, callback);
        }
      };
      const delay = session.bucket.take(options.publishMaxDelayMs);
      if (delay === Number.POSITIVE_INFINITY) return deny(callback, client, packet.topic, 'rate_limited', 'publish rate exceeded');
      // The delayed run is outside this try: it gets its own, or a throw there would be an uncaughtException.
      if (delay > 0) setTimeout(() => guarded(proceed, callback), delay);
      else proceed();
    } catch (error) {
      hookFailed(error, callback);
    }
  };

  function guarded(run: () => void, callback: (error?: Error | null) => void): void {
    try {
      run();
    } catch (error) {
      hookFailed(error, callback);
    }
  }

  function hookFailed(error: unknown, callback: (error?: Error | null) => void): void {
    // Never throw into aedes: a throw here would escape its callback chain and take the process down.
    logger.error({ event: 'hook_error', hook: 'authorizePublish', err: error }, 'authorizePublish failed');
    callback(error instanceof Error ? error : new Error(String(error)));
  }
}

function toBuffer(payload: PublishPacket['payload']): Buffer {
  return Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
}
