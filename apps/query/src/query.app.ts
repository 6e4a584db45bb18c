// Builds the query HTTP application on Fastify; main.ts (distributed) and the embedded launcher both use it.
// Adds what lives outside Nest's routing: the error format for every failure (including Fastify's own body-parsing
// errors and unknown routes), request metrics, and the OpenAPI document + UI at /docs.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { Logger } from '@fleet/config';
import { ErrorFilter } from './common/error.filter.js';
import { buildOpenApiDocument } from './docs/openapi.js';
import { QueryMetrics } from './metrics/metrics.js';
import { QUERY_CONTROLLERS, QueryModule, type QueryModuleOptions } from './query.module.js';

/** Largest request body (provisioning bodies are a few hundred bytes). */
const BODY_LIMIT_BYTES = 64 * 1024;

export async function createQueryApp(options: QueryModuleOptions & { logger: Logger }): Promise<NestFastifyApplication> {
  const metrics = options.metrics ?? new QueryMetrics();
  const adapter = new FastifyAdapter({ bodyLimit: BODY_LIMIT_BYTES, logger: false, return503OnClosing: true });
  const app = await NestFactory.create<NestFastifyApplication>(QueryModule.register({ ...options, metrics }), adapter, {
    logger: false,
  });
  app.useGlobalFilters(new ErrorFilter(options.logger));

  const fastify = app.getHttpAdapter().getInstance();
  fastify.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.observe(request.method, route, reply.statusCode, reply.elapsedTime / 1000);
  });

  const document = buildOpenApiDocument(QUERY_CONTROLLERS, {
    title: 'specfleet query API',
    version: '1',
    description:
      'Fleet status, health and energy use of special-purpose vehicles. Authenticate with `Authorization: Bearer <api key>`; ' +
      'every answer is limited to the tenant of the key. Errors are {"error":{"code","message"}}.',
  });
  await app.register(fastifySwagger, { mode: 'static', specification: { document: document as never } });
  await app.register(fastifySwaggerUi, { routePrefix: '/docs' });
  return app;
}
