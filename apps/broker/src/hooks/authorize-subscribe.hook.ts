// authorizeSubscribe: a denied filter is granted 0x80 in the SUBACK (aedes maps a null subscription to 128) and the
// connection stays up, so a client learns which filter was refused. Outbound QoS is capped at 1 (SPEC §3).
import type { Client, Subscription } from 'aedes';
import type { Logger } from 'pino';
import { authorizeSubscribeFilter } from '../acl.js';
import { type ClientSessions, forLog } from '../client-sessions.js';
import type { BrokerMetrics } from '../metrics.js';

export interface AuthorizeSubscribeDeps {
  sessions: ClientSessions;
  metrics: BrokerMetrics;
  logger: Logger;
}

export function createAuthorizeSubscribeHook(deps: AuthorizeSubscribeDeps) {
  const { sessions, metrics, logger } = deps;
  return function authorizeSubscribe(client: Client, subscription: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void): void {
    try {
      const session = sessions.get(client);
      const decision = session ? authorizeSubscribeFilter(session.principal, subscription.topic) : ({ allowed: false, reason: 'no_session' } as const);
      if (!decision.allowed) {
        metrics.refuse('subscribe_denied');
        logger.warn({ event: 'subscribe_denied', clientId: forLog(client.id), filter: forLog(subscription.topic), reason: decision.reason }, 'MQTT subscription refused');
        return callback(null, null);
      }
      if (subscription.qos > 1) subscription.qos = 1;
      callback(null, subscription);
    } catch (error) {
      logger.error({ event: 'hook_error', hook: 'authorizeSubscribe', err: error }, 'authorizeSubscribe failed');
      callback(null, null);
    }
  };
}
