// What the broker knows about each aedes client beyond aedes itself: who it is, its rate bucket, how it connected,
// and how it went away. Keyed weakly by the aedes Client so nothing outlives the connection.
import type { Client } from 'aedes';
import type { Principal } from './acl.js';
import type { TokenBucket } from './limits/token-bucket.js';

export interface ConnectInfo {
  requestedKeepaliveS: number;
  effectiveKeepaliveS: number;
  willTopic: string | undefined;
}

export interface ClientSession {
  principal: Principal;
  bucket: TokenBucket;
  hadWill: boolean;
  keepaliveTimedOut: boolean;
}

export class ClientSessions {
  private readonly connects = new WeakMap<Client, ConnectInfo>();
  private readonly sessions = new WeakMap<Client, ClientSession>();

  setConnect(client: Client, info: ConnectInfo): void {
    this.connects.set(client, info);
  }

  connectInfo(client: Client): ConnectInfo | undefined {
    return this.connects.get(client);
  }

  set(client: Client, session: ClientSession): void {
    this.sessions.set(client, session);
  }

  get(client: Client | null | undefined): ClientSession | undefined {
    return client ? this.sessions.get(client) : undefined;
  }
}

/** An error a hook hands to aedes: aedes closes the connection (or answers CONNACK returnCode) and emits it. */
export class BrokerRefusal extends Error {
  constructor(
    message: string,
    readonly reason: string,
    readonly returnCode?: 2 | 3 | 4 | 5,
  ) {
    super(message);
    this.name = 'BrokerRefusal';
  }
}

/** Topics and ids come from the wire: cap what reaches the logs (pino escapes control characters itself). */
export function forLog(value: string | undefined, max = 128): string | undefined {
  if (value === undefined) return undefined;
  return value.length > max ? `${value.slice(0, max)}…(${value.length})` : value;
}
