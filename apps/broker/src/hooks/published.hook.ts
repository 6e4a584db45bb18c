// published: runs after aedes routed a message. A Last Will on a status topic (published by aedes for a vehicle that
// vanished, or for one whose broker died) feeds the connectivity record; nothing here may fail the publish. A vehicle's
// own status publishes do not come this way: authorizePublish commits them before their PUBACK, like telemetry.
import type { AedesPublishPacket, Client } from 'aedes';
import type { Logger } from 'pino';
import { parseTopic } from '@fleet/contracts';
import type { ConnectivitySink } from '../ports.js';

export interface PublishedDeps {
  connectivity: ConnectivitySink;
  logger: Logger;
}

export function createPublishedHook(deps: PublishedDeps) {
  return function published(packet: AedesPublishPacket, client: Client | null, callback: (error?: Error | null) => void): void {
    try {
      // $SYS heartbeats and the like are not ours; only topics that passed authorizePublish reach here otherwise.
      // A will comes from a closing client (aedes sets `closed` first) or from none (a dead broker's will).
      const will = client === null || client.closed;
      if (will && packet.topic.charCodeAt(0) !== 36 /* $ */) {
        const parsed = parseTopic(packet.topic);
        if (parsed?.channel === 'status') {
          const payload = Buffer.isBuffer(packet.payload) ? packet.payload : Buffer.from(packet.payload);
          deps.connectivity.status(parsed.vehicleId, payload, new Date());
        }
      }
    } catch (error) {
      deps.logger.error({ event: 'hook_error', hook: 'published', err: error }, 'connectivity sink failed');
    }
    callback(null);
  };
}
