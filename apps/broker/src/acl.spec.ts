import { describe, expect, it } from 'vitest';
import { authorizePublishTopic, authorizeSubscribeFilter, mayReceive, type Principal } from './acl.js';

const v1: Principal = { kind: 'vehicle', id: 'V1', tenantId: 't' };
const svc: Principal = { kind: 'service', id: 'ingest' };

describe('acl', () => {
  it('lets a vehicle publish only to its own telemetry, events, status and cmd/ack', () => {
    for (const ch of ['telemetry', 'events', 'status', 'cmd/ack']) expect(authorizePublishTopic(v1, `fleet/V1/${ch}`).allowed).toBe(true);
    for (const topic of ['fleet/V2/telemetry', 'fleet/V1/cmd', 'fleet/V1/x', 'fleet/V1/telemetry/x', '$SYS/x', 'fleet/V1', 'fleet//telemetry', 'fleet/+/telemetry']) {
      expect(authorizePublishTopic(v1, topic).allowed, topic).toBe(false);
    }
  });

  it('lets a service account publish commands only', () => {
    expect(authorizePublishTopic(svc, 'fleet/V1/cmd').allowed).toBe(true);
    expect(authorizePublishTopic(svc, 'fleet/V1/telemetry').allowed).toBe(false);
  });

  it('lets a vehicle subscribe to exactly its own cmd', () => {
    expect(authorizeSubscribeFilter(v1, 'fleet/V1/cmd')).toEqual({ allowed: true });
    for (const f of ['fleet/V2/cmd', 'fleet/+/cmd', '#', '$SYS/#', 'fleet/V1/#', 'fleet/V1/telemetry', '$share/g/fleet/V1/cmd']) {
      expect(authorizeSubscribeFilter(v1, f).allowed, f).toBe(false);
    }
  });

  it('lets a service account subscribe under fleet/ only, never $share', () => {
    for (const f of ['fleet/+/telemetry', 'fleet/#', 'fleet/V1/status', 'fleet/+/cmd/ack']) expect(authorizeSubscribeFilter(svc, f).allowed, f).toBe(true);
    for (const f of ['#', '+/x', 'fleet', 'fleet/', '$SYS/#', '$share/ingest/fleet/+/telemetry']) expect(authorizeSubscribeFilter(svc, f).allowed, f).toBe(false);
  });

  it('delivers to a vehicle nothing but its own commands', () => {
    expect(mayReceive(v1, 'fleet/V1/cmd')).toBe(true);
    expect(mayReceive(v1, 'fleet/V2/cmd')).toBe(false);
    expect(mayReceive(svc, 'fleet/V2/telemetry')).toBe(true);
    expect(mayReceive(svc, '$SYS/x')).toBe(false);
  });
});
