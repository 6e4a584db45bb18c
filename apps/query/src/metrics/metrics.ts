// Prometheus metrics of the query API: one registry per app instance (so several can live in one process, as in
// tests and the embedded mode), request counts and latencies by route template and status, plus process metrics.
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';

export class QueryMetrics {
  readonly registry = new Registry();
  readonly requests: Counter<'method' | 'route' | 'status'>;
  readonly duration: Histogram<'method' | 'route'>;

  constructor() {
    this.registry.setDefaultLabels({ service: 'query' });
    collectDefaultMetrics({ register: this.registry, prefix: 'specfleet_query_' });
    this.requests = new Counter({
      name: 'specfleet_http_requests_total',
      help: 'HTTP requests answered, by route template and status',
      labelNames: ['method', 'route', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'specfleet_http_request_duration_seconds',
      help: 'HTTP request latency by route template',
      labelNames: ['method', 'route'],
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
      registers: [this.registry],
    });
  }

  observe(method: string, route: string, status: number, seconds: number): void {
    this.requests.inc({ method, route, status: String(status) });
    this.duration.observe({ method, route }, seconds);
  }
}
