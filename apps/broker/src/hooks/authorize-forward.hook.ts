// authorizeForward: runs for every message about to be written to a subscriber; counts deliveries and, as defence in
// depth behind the subscribe ACL, never hands a vehicle anything but its own commands. The stand-in of an oversize
// PUBLISH (dead-lettered by the publish hook, see PacketSizeGuard) is delivered to nobody.
import type { AedesPublishPacket, Client } from 'aedes';
import { mayReceive } from '../acl.js';
import { readOversizeStandIn } from '../limits/packet-size-guard.js';
import type { ClientSessions } from '../client-sessions.js';
import type { BrokerMetrics } from '../metrics.js';

export interface AuthorizeForwardDeps {
  sessions: ClientSessions;
  metrics: BrokerMetrics;
  /** The marker of this broker's oversize stand-ins (BrokerService), when it makes them. */
  oversizeMarker?: Buffer;
}

export function createAuthorizeForwardHook(deps: AuthorizeForwardDeps) {
  return function authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const session = deps.sessions.get(client);
    if (!session || !mayReceive(session.principal, packet.topic)) return null;
    if (deps.oversizeMarker && Buffer.isBuffer(packet.payload) && readOversizeStandIn(packet.payload, deps.oversizeMarker)) return null;
    deps.metrics.publishesSent.inc();
    return packet;
  };
}
