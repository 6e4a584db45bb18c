// Builds the query HTTP application on Fastify; main.ts (distributed) and the embedded launcher both use it.
// Adds what lives outside Nest's routing: authentication before the body is parsed (auth/auth.hook.ts), the error
// format for every failure (including Fastify's own body-parsing errors, unknown routes, router errors and the 503
// while shutting down), request metrics, and the OpenAPI document + UI at /docs.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter, type NestFastifyApplication } from '@nestjs/platform-fastify';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@fleet/config';
import { ApiKeyCache } from './auth/api-key-cache.js';
import { addAuthenticationHook } from './auth/auth.hook.js';
import { errorBody, type ErrorCode, ERROR_CODES } from './common/api-error.js';
import { ErrorFilter } from './common/error.filter.js';
import { buildOpenApiDocument } from './docs/openapi.js';
import { QueryMetrics } from './metrics/metrics.js';
import { QUERY_CONTROLLERS, QueryModule, type QueryModuleOptions } from './query.module.js';
import { QUERY_OPTIONS, type QueryOptions } from './query.options.js';

/** Largest request body (provisioning bodies are a few hundred bytes). */
const BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Longest path parameter the router matches: twice the longest vehicle id (64), so every over-long id still reaches
 * the route and its 404; a longer one is refused by the router (frameworkErrors below), also as 404 not_found.
 */
const MAX_PARAM_LENGTH = 128;

function sendError(reply: FastifyReply, code: ErrorCode, message: string): void {
  void reply.status(ERROR_CODES[code]).header('content-type', 'application/json; charset=utf-8').send(errorBody(code, message));
}

/**
 * Errors the router raises before any route (so before Nest's filter) would otherwise answer in Fastify's own
 * {"statusCode",…} shape. An over-long parameter cannot name a vehicle: 404 as for any unknown id.
 */
function frameworkError(error: FastifyError, _request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendError(reply, 'not_found', 'no such resource');
  if (error.code === 'FST_ERR_BAD_URL') return sendError(reply, 'invalid_parameter', 'the path is not valid percent-encoding');
  return sendError(reply, 'internal', 'internal error');
}

export async function createQueryApp(options: QueryModuleOptions & { logger: Logger }): Promise<NestFastifyApplication> {
  const metrics = options.metrics ?? new QueryMetrics();
  // return503OnClosing off: Fastify's own 503 body skips the error format; the onRequest hook below answers instead.
  const adapter = new FastifyAdapter({
    bodyLimit: BODY_LIMIT_BYTES,
    logger: false,
    return503OnClosing: false,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    frameworkErrors: frameworkError,
  });
  const app = await NestFactory.create<NestFastifyApplication>(QueryModule.register({ ...options, metrics }), adapter, {
    logger: false,
  });
  app.useGlobalFilters(new ErrorFilter(options.logger));

  const fastify = app.getHttpAdapter().getInstance();
  // While the server drains (close() started), a request still arriving on an open keep-alive connection is shed with
  // 503 unavailable, so the load balancer retries it elsewhere; it never reaches the database being shut down.
  let closing = false;
  fastify.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  fastify.addHook('onRequest', (_request, reply, done) => {
    if (!closing) return done();
    void reply.header('connection', 'close');
    sendError(reply, 'unavailable', 'the server is shutting down; retry');
  });
  // After the shutdown check (a draining server sheds requests without a key lookup), before the body is parsed.
  addAuthenticationHook(fastify, app.get(ApiKeyCache), app.get<typeof QUERY_OPTIONS, QueryOptions>(QUERY_OPTIONS), (reply, error) =>
    sendError(reply, error.code, error.message),
  );
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
