// Liveness and readiness for orchestrators (SPEC §5): no API key needed.
import { Controller, Get, HttpCode, HttpStatus, Inject, Res } from '@nestjs/common';
import type { FastifyReply } from 'fastify';
import Type from 'typebox';
import { Endpoint } from '../common/endpoint.js';
import { type CheckResult, HealthService } from './health.service.js';

const Live = Type.Object({ status: Type.Literal('ok') });
// Per check only ok or down: the endpoint is public, so why a check failed goes to the log (health.service.ts).
const Ready = Type.Object({ status: Type.Enum(['ok', 'unavailable']), checks: Type.Record(Type.String(), Type.Enum(['ok', 'down'])) });

@Controller('health')
export class HealthController {
  constructor(@Inject(HealthService) private readonly health: HealthService) {}

  @Get('live')
  @HttpCode(HttpStatus.OK)
  @Endpoint({ tag: 'operations', summary: 'Liveness: the process answers', access: 'public', responses: { 200: Live } })
  live(): { status: 'ok' } {
    return { status: 'ok' };
  }

  @Get('ready')
  @Endpoint({ tag: 'operations', summary: 'Readiness: database and broker reachable (503 otherwise)', access: 'public', responses: { 200: Ready, 503: Ready } })
  async ready(@Res({ passthrough: true }) reply: FastifyReply): Promise<{ status: 'ok' | 'unavailable'; checks: Record<string, CheckResult> }> {
    const checks = await this.health.checks();
    const ok = Object.values(checks).every((c) => c === 'ok');
    reply.status(ok ? HttpStatus.OK : HttpStatus.SERVICE_UNAVAILABLE);
    return { status: ok ? 'ok' : 'unavailable', checks };
  }
}
