// Readiness checks: each dependency answers "ok" or "down" — the database always, plus the probes the launcher
// passes (the MQTT broker: a TCP connect in distributed mode, the in-process broker's state in embedded mode).
// /health/ready needs no key, so why a check failed is logged, never answered: a driver's or socket's message can
// name database hosts, ports and users ("password authentication failed for user …").
import { Inject, Injectable, Optional } from '@nestjs/common';
import type { Logger } from '@fleet/config';
import { HealthRepository } from '@fleet/db';
import { QUERY_LOGGER } from '../query.options.js';

export type ReadinessProbes = Readonly<Record<string, () => Promise<void>>>;
export const READINESS_PROBES = Symbol('specfleet.query.readiness-probes');

export type CheckResult = 'ok' | 'down';

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
    @Optional() @Inject(QUERY_LOGGER) private readonly logger?: Logger,
  ) {}

  async checks(): Promise<Record<string, CheckResult>> {
    const entries = Object.entries({ database: () => this.repository.ping(), ...this.probes });
    const results = await Promise.all(
      entries.map(([name, check]) =>
        withTimeout(check).then(
          () => [name, 'ok'] as const,
          (error: unknown) => {
            this.logger?.warn({ check: name, err: error }, 'readiness check failed');
            return [name, 'down'] as const;
          },
        ),
      ),
    );
    return Object.fromEntries(results);
  }
}
