// Readiness checks: each dependency answers "ok" or why not — the database always, plus the probes the launcher
// passes (the MQTT broker: a TCP connect in distributed mode, the in-process broker's state in embedded mode).
import { Inject, Injectable } from '@nestjs/common';
import { HealthRepository } from '@fleet/db';

export type ReadinessProbes = Readonly<Record<string, () => Promise<void>>>;
export const READINESS_PROBES = Symbol('specfleet.query.readiness-probes');

const PROBE_TIMEOUT_MS = 2_000;

function withTimeout(check: () => Promise<void>): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    check(),
    new Promise<void>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)), PROBE_TIMEOUT_MS);
    }),
  ]).finally(() => clearTimeout(timer));
}

@Injectable()
export class HealthService {
  constructor(
    @Inject(HealthRepository) private readonly repository: HealthRepository,
    @Inject(READINESS_PROBES) private readonly probes: ReadinessProbes,
  ) {}

  async checks(): Promise<Record<string, string>> {
    const entries = Object.entries({ database: () => this.repository.ping(), ...this.probes });
    const results = await Promise.all(
      entries.map(([name, check]) => withTimeout(check).then(() => 'ok', (error: Error) => `unavailable: ${error.message}`).then((r) => [name, r] as const)),
    );
    return Object.fromEntries(results);
  }
}
