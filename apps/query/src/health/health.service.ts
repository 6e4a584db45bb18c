// Readiness checks: each dependency answers "ok" or why not.
import { Inject, Injectable } from '@nestjs/common';
import { HealthRepository } from '@fleet/db';

@Injectable()
export class HealthService {
  constructor(@Inject(HealthRepository) private readonly repository: HealthRepository) {}

  async checks(): Promise<Record<string, string>> {
    return { database: await this.repository.ping().then(() => 'ok', (error: Error) => `unavailable: ${error.message}`) };
  }
}
