// preConnect: the one hook that sees the CONNECT packet itself. Records what authenticate needs (the will topic)
// and clamps the keepalive the broker will enforce (aedes arms its keepalive timer from this packet afterwards).
import type { Client, ConnectPacket } from 'aedes';
import type { BrokerOptions } from '../broker.options.js';
import type { ClientSessions } from '../client-sessions.js';
import { clampKeepalive } from '../limits/keepalive.js';

export interface PreConnectDeps {
  options: Pick<BrokerOptions, 'keepaliveMinS' | 'keepaliveMaxS'>;
  sessions: ClientSessions;
}

export function createPreConnectHook(deps: PreConnectDeps) {
  return function preConnect(client: Client, packet: ConnectPacket, callback: (error: Error | null, success: boolean) => void): void {
    const requested = packet.keepalive ?? 0;
    const effective = clampKeepalive(requested, deps.options.keepaliveMinS, deps.options.keepaliveMaxS);
    packet.keepalive = effective;
    deps.sessions.setConnect(client, { requestedKeepaliveS: requested, effectiveKeepaliveS: effective, willTopic: packet.will?.topic });
    callback(null, true);
  };
}
