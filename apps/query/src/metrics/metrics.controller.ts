// GET /metrics in the Prometheus text format (open by default; options.metricsPublic = false requires a key).
import { Controller, Get, Header, Inject } from '@nestjs/common';
import Type from 'typebox';
import { Endpoint } from '../common/endpoint.js';
import { QueryMetrics } from './metrics.js';

@Controller('metrics')
export class MetricsController {
  constructor(@Inject(QueryMetrics) private readonly metrics: QueryMetrics) {}

  @Get()
  @Header('content-type', 'text/plain; version=0.0.4; charset=utf-8')
  @Endpoint({ tag: 'operations', summary: 'Prometheus metrics', access: 'metrics', responses: { 200: Type.String({ description: 'Prometheus text exposition format' }) } })
  scrape(): Promise<string> {
    return this.metrics.registry.metrics();
  }
}
