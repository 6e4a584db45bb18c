// authorizeForward: runs for every message about to be written to a subscriber; counts deliveries and, as defence in
// depth behind the subscribe ACL, never hands a vehicle anything but its own commands.
import type { AedesPublishPacket, Client } from 'aedes';
import { mayReceive } from '../acl.js';
import type { ClientSessions } from '../client-sessions.js';
import type { BrokerMetrics } from '../metrics.js';

export interface AuthorizeForwardDeps {
  sessions: ClientSessions;
  metrics: BrokerMetrics;
}

export function createAuthorizeForwardHook(deps: AuthorizeForwardDeps) {
  return function authorizeForward(client: Client, packet: AedesPublishPacket): AedesPublishPacket | null {
    const session = deps.sessions.get(client);
    if (!session || !mayReceive(session.principal, packet.topic)) return null;
    deps.metrics.publishesSent.inc();
    return packet;
  };
}
