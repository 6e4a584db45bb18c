// Keepalive bounds. MQTT 3.1.1 cannot tell a client "use another keepalive", so instead of refusing we enforce the
// clamped value: a client asking for none (0) or for hours is still dropped after 1.5 × max seconds of silence.
export function clampKeepalive(requestedS: number, minS: number, maxS: number): number {
  if (!Number.isFinite(requestedS) || requestedS <= 0) return maxS;
  return Math.min(maxS, Math.max(minS, requestedS));
}
