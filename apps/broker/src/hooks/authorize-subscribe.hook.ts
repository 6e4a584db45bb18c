// authorizeSubscribe: a denied filter is granted 0x80 in the SUBACK (aedes maps a null subscription to 128) and the
// connection stays up, so a client learns which filter was refused. Outbound QoS is capped at 1 (SPEC §3).
// A refused filter is never stored either: see persistence/authorized-subscriptions.ts.
//
// Refusals are logged once per SUBSCRIBE packet, not once per filter: one 256 KiB SUBSCRIBE can carry ~40k filters,
// and a line each turned one packet into ~40k log lines (SPEC §4.7). aedes authorizes every filter of a packet
// synchronously (lib/handlers/subscribe.js runs them through runParallel, and validateTopic and this hook never
// wait), so the refusals collected until the next tick are that packet's. Past MAX_REFUSED_FILTERS on one
// connection the client is disconnected, so repeating such SUBSCRIBEs costs it a reconnect each time.
import type { Client, Subscription } from 'aedes';
import type { Logger } from 'pino';
import { authorizeSubscribeFilter } from '../acl.js';
import { BrokerRefusal, type ClientSessions, forLog } from '../client-sessions.js';
import type { BrokerMetrics } from '../metrics.js';

export interface AuthorizeSubscribeDeps {
  sessions: ClientSessions;
  metrics: BrokerMetrics;
  logger: Logger;
}

/** Refused filters one connection may send before it is closed: far above any client that merely falls back. */
export const MAX_REFUSED_FILTERS = 100;
/** Refused filters named in the log line (the rest are only counted). */
const LOGGED_FILTERS = 5;

interface Refusals {
  count: number;
  filters: Array<string | undefined>;
  reasons: Set<string>;
}

export function createAuthorizeSubscribeHook(deps: AuthorizeSubscribeDeps) {
  const { sessions, metrics, logger } = deps;
  /** The refusals of the SUBSCRIBE being authorized, per client, until flushed to one log line. */
  const pending = new WeakMap<Client, Refusals>();
  /** Refused filters so far, per connection (a reconnect is a new Client). */
  const refusedTotal = new WeakMap<Client, number>();

  function flush(client: Client, refusals: Refusals): void {
    pending.delete(client);
    const total = refusedTotal.get(client) ?? 0;
    logger.warn(
      {
        event: 'subscribe_denied',
        clientId: forLog(client.id),
        refused: refusals.count,
        filters: refusals.filters,
        reasons: [...refusals.reasons],
        ...(total > MAX_REFUSED_FILTERS ? { closing: true, refusedOnConnection: total } : {}),
      },
      'MQTT subscription refused',
    );
  }

  /** Records one refused filter; true when the connection is now over its limit (the caller closes it). */
  function refuse(client: Client, filter: string, reason: string): boolean {
    metrics.refuse('subscribe_denied');
    let refusals = pending.get(client);
    if (!refusals) {
      refusals = { count: 0, filters: [], reasons: new Set() };
      pending.set(client, refusals);
      process.nextTick(flush, client, refusals);
    }
    refusals.count++;
    if (refusals.filters.length < LOGGED_FILTERS) refusals.filters.push(forLog(filter));
    refusals.reasons.add(reason);
    const total = (refusedTotal.get(client) ?? 0) + 1;
    refusedTotal.set(client, total);
    // Exactly once: aedes closes the client on the first error and ignores the rest of the packet's callbacks.
    return total === MAX_REFUSED_FILTERS + 1;
  }

  return function authorizeSubscribe(client: Client, subscription: Subscription, callback: (error: Error | null, subscription?: Subscription | null) => void): void {
    try {
      const session = sessions.get(client);
      const decision = session ? authorizeSubscribeFilter(session.principal, subscription.topic) : ({ allowed: false, reason: 'no_session' } as const);
      if (!decision.allowed) {
        if (refuse(client, subscription.topic, decision.reason)) {
          return callback(new BrokerRefusal(`subscribe refused: more than ${MAX_REFUSED_FILTERS} refused filters on one connection`, 'subscribe_denied'));
        }
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
