// Keeps refused SUBSCRIBE filters out of the aedes persistence, so a persistent session (clean: false) never has a
// filter stored that authorizeSubscribe refused (SPEC §3 "anything else is refused", §4.7 bounded resources).
//
// Why the hook alone is not enough. aedes 1.2 runs, per filter, [authorize, storeSubscriptions, addSubs]
// (node_modules/aedes/lib/handlers/subscribe.js) and storeSubscriptions persists *the whole packet* —
// `persistence.addSubscriptions(client, packet.subscriptions)` — as soon as any one filter is granted. Our hook can
// only answer `null` for a refused entry (SUBACK 0x80); the entry stays in `packet.subscriptions`, so `fleet/#` sent
// next to `fleet/V1/cmd` was stored for V1. aedes then queued one copy of every matching fleet message for V1
// (enqueueOffline → subscriptionsByTopic → outgoingEnqueueCombi; in distributed mode also enqueueBeforeAck, on disk,
// before every PUBACK) with no live subscription to drain it: memory or disk grew at the fleet's message rate.
//
// The refusal itself was already logged and counted by the hook; here the filter is only left out, silently.
import type { Client, Subscription } from 'aedes';

/** The part of an aedes persistence (memory or level) this guard wraps. */
export interface SubscriptionStore {
  addSubscriptions(client: Client, subs: Subscription[]): Promise<void>;
}

/**
 * Wraps `store.addSubscriptions` in place so it only writes the filters `mayStore` allows for that client (the same
 * ACL as the authorizeSubscribe hook). Must run before any client connects; aedes looks the method up on every call.
 */
export function storeOnlyAuthorizedSubscriptions(store: SubscriptionStore, mayStore: (client: Client, filter: string) => boolean): void {
  const addSubscriptions = store.addSubscriptions.bind(store);
  store.addSubscriptions = (client, subs) => {
    const allowed = subs.filter((sub) => mayStore(client, sub.topic));
    // Nothing left: write nothing (the memory persistence would still create an empty entry for the client).
    if (allowed.length === 0) return Promise.resolve();
    return addSubscriptions(client, allowed);
  };
}
