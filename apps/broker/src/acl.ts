// The topic access rules of SPEC §3, as pure functions of (principal, topic): the hooks only translate the answers.
import { parseTopic, type ParsedTopic } from '@fleet/contracts';

export type Principal =
  | { kind: 'vehicle'; id: string; tenantId: string }
  | { kind: 'service'; id: string };

export type PublishDecision =
  | { allowed: true; parsed: ParsedTopic }
  | { allowed: false; reason: 'foreign_topic' | 'unknown_topic' | 'channel' };

const VEHICLE_PUBLISH_CHANNELS = new Set(['telemetry', 'events', 'status', 'cmd/ack']);

/**
 * A vehicle publishes only to fleet/{self}/{telemetry|events|status|cmd/ack}; a service account only sends commands
 * (fleet/{vid}/cmd). `$SYS/...` and everything outside `fleet/{vid}/{channel}` is refused for everyone.
 */
export function authorizePublishTopic(principal: Principal, topic: string): PublishDecision {
  const parsed = parseTopic(topic);
  if (!parsed) return { allowed: false, reason: 'unknown_topic' };
  if (principal.kind === 'vehicle') {
    if (parsed.vehicleId !== principal.id) return { allowed: false, reason: 'foreign_topic' };
    if (!VEHICLE_PUBLISH_CHANNELS.has(parsed.channel)) return { allowed: false, reason: 'channel' };
    return { allowed: true, parsed };
  }
  return parsed.channel === 'cmd' ? { allowed: true, parsed } : { allowed: false, reason: 'channel' };
}

export type SubscribeDecision = { allowed: true } | { allowed: false; reason: 'foreign_topic' | 'wildcard' | 'shared' | 'outside_fleet' };

/**
 * A vehicle subscribes only to exactly fleet/{self}/cmd. A service account subscribes to filters under fleet/ with
 * at least two levels (fleet/+/telemetry, fleet/#, fleet/V1/status ...). `$share/...` is refused: aedes has no
 * shared subscriptions and would treat it as a literal topic that never matches, silently starving the subscriber;
 * a SUBACK 0x80 lets an ingestion worker fall back to a plain subscription.
 */
export function authorizeSubscribeFilter(principal: Principal, filter: string): SubscribeDecision {
  if (filter.startsWith('$share/')) return { allowed: false, reason: 'shared' };
  if (principal.kind === 'vehicle') {
    if (filter === `fleet/${principal.id}/cmd`) return { allowed: true };
    return { allowed: false, reason: filter.includes('#') || filter.includes('+') ? 'wildcard' : 'foreign_topic' };
  }
  // "fleet/#" covers every vehicle; a bare "fleet" or "#"/"+/..." would reach outside the fleet tree ($SYS included).
  if (filter.startsWith('fleet/') && filter.length > 'fleet/'.length) return { allowed: true };
  return { allowed: false, reason: 'outside_fleet' };
}

/** Defence in depth on delivery: a vehicle only ever receives its own commands, whatever got subscribed. */
export function mayReceive(principal: Principal, topic: string): boolean {
  if (principal.kind === 'service') return topic.startsWith('fleet/');
  return topic === `fleet/${principal.id}/cmd`;
}
