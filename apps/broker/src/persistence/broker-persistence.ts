// The aedes persistence the broker runs on (BrokerOptions.persistence), and the one step that makes the durable one
// keep SPEC §4 guarantee 1 in distributed mode: a QoS 1 PUBLISH is written to the persistent sessions' queues on
// disk *before* aedes sends its PUBACK.
//
// Why that step is needed. aedes 1.2 acknowledges first and queues afterwards:
//   node_modules/aedes/lib/handlers/publish.js  enqueuePublish, `case 1:` write(client, new PubAck(packet), …) and
//                                               only in its callback client.broker.publish(packet, client, done)
//   node_modules/aedes/aedes.js                 publish(): `const p = new Packet(packet, this)`, then publishFuncsQoS =
//                                               [storeRetained, enqueueOffline, emitPacket, callPublished];
//                                               enqueueOffline → persistence.subscriptionsByTopic(topic) →
//                                               persistence.outgoingEnqueueCombi(subs, packet)
// so with any persistence a kill -9 between the PUBACK and the LevelDB write loses an acknowledged message. The
// broker therefore enqueues from authorizePublish (which aedes runs before enqueuePublish: publishActions =
// [authorizePublish, enqueuePublish]) under the very key aedes will use a moment later:
//   node_modules/aedes-packet/packet.js         this.brokerId = original.brokerId || broker.id
//                                               this.brokerCounter = original.brokerCounter || ++broker.counter
//   node_modules/aedes-persistence-level/asyncPersistence.js
//                                               outgoingEnqueue: key outgoing:{clientId}:{brokerId}:{brokerCounter},
//                                               value new Packet(packet) (msgpack)
// Stamping brokerId/brokerCounter on the incoming packet makes aedes' own enqueue rewrite the same key with the same
// bytes (idempotent), and online delivery only starts after that (emitPacket follows enqueueOffline), so a message
// acknowledged by the subscriber cannot be resurrected by the second write.
//
// What is durable: LevelDB appends every write to its log with write(2) before the promise resolves, so the data is in
// the kernel when the PUBACK leaves; it survives the broker process dying (kill -9, OOM, crash). It is not fsynced
// per message, so a power loss of the host can lose the last writes — the same trade Mosquitto makes with its
// periodic autosave, far narrower here.
import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { PublishPacket } from 'aedes';
import levelPersistence, { type LevelAedesPersistence } from 'aedes-persistence-level';
import { ClassicLevel } from 'classic-level';
import type { BrokerOptions, BrokerPersistenceKind } from '../broker.options.js';

/** The aedes-side identity of a broker instance, as aedes-packet reads it. */
export interface AedesIdentity {
  readonly id: string;
  counter: number;
}

export interface BrokerPersistence {
  readonly kind: BrokerPersistenceKind;
  /** Absolute directory of the durable store; null for memory. */
  readonly location: string | null;
  /** What to hand aedes as `persistence` (undefined: aedes' own in-memory default). */
  readonly aedesPersistence: LevelAedesPersistence | undefined;
  /**
   * Durably queues a QoS 1/2 PUBLISH for every persistent session subscribed to its topic, before the PUBACK.
   * Undefined when the persistence is not durable (nothing to gain: it would be lost on restart anyway).
   */
  readonly enqueueBeforeAck: ((aedes: AedesIdentity, packet: PublishPacket) => Promise<void>) | undefined;
  /** Closes the store (after aedes.close()); safe to call more than once. */
  close(): Promise<void>;
}

export class PersistenceOpenError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'PersistenceOpenError';
  }
}

export async function openBrokerPersistence(options: Pick<BrokerOptions, 'persistence' | 'persistenceDir'>): Promise<BrokerPersistence> {
  if (options.persistence === 'memory') {
    return { kind: 'memory', location: null, aedesPersistence: undefined, enqueueBeforeAck: undefined, close: async () => undefined };
  }
  const location = resolve(options.persistenceDir!);
  await mkdir(location, { recursive: true });
  const db = new ClassicLevel<string, Buffer>(location, { keyEncoding: 'utf8', valueEncoding: 'buffer' });
  try {
    await db.open();
  } catch (error) {
    const locked = (error as { cause?: { code?: string } }).cause?.code === 'LEVEL_LOCKED';
    throw new PersistenceOpenError(
      locked
        ? `broker persistence ${location} is in use by another process (one broker per MQTT_PERSISTENCE_DIR)`
        : `cannot open broker persistence ${location}: ${(error as Error).message}`,
      { cause: error },
    );
  }
  const persistence = levelPersistence(db);
  let closed: Promise<void> | undefined;
  return {
    kind: 'level',
    location,
    aedesPersistence: persistence,
    enqueueBeforeAck: async (aedes, packet) => {
      const stamped = packet as PublishPacket & { brokerId?: string; brokerCounter?: number };
      if (stamped.brokerCounter) return; // already queued (a hook running twice must not take a second counter)
      stamped.brokerId = aedes.id;
      stamped.brokerCounter = ++aedes.counter;
      const subs = await persistence.subscriptionsByTopic(packet.topic);
      if (subs.length > 0) await persistence.outgoingEnqueueCombi(subs, stamped);
    },
    close: () => (closed ??= persistence.destroy().catch(() => db.close())),
  };
}
