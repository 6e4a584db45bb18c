// Connectivity of a vehicle (SPEC §5): online = connected and a sample within 3 × its report interval; stale =
// connected but silent; offline = disconnected (Last Will) or silent for longer than the offline threshold.
// The same rule is evaluated in SQL for filtering and counting (FleetQueryRepository); this is its reference.

export const CONNECTIVITY = ['online', 'stale', 'offline'] as const;
export type Connectivity = (typeof CONNECTIVITY)[number];

/** How many report intervals of silence a connected vehicle may have and still be online. */
export const ONLINE_INTERVALS = 3;

export interface ConnectivityInput {
  connected: boolean;
  /** When the server last received a sample from the vehicle (null: never). */
  lastReceivedAt: Date | null;
  reportIntervalS: number;
}

export function connectivityOf(v: ConnectivityInput, nowMs: number, offlineAfterS: number): Connectivity {
  if (!v.connected) return 'offline';
  if (v.lastReceivedAt === null) return 'stale';
  const silentMs = nowMs - v.lastReceivedAt.getTime();
  if (silentMs > offlineAfterS * 1000) return 'offline';
  if (silentMs <= ONLINE_INTERVALS * v.reportIntervalS * 1000) return 'online';
  return 'stale';
}
