// Authentication before the body: Fastify parses a body (content type, size limit, JSON) after onRequest and before
// any Nest guard, so with the check only in AuthGuard a caller without a key got 400/413/415 for a bad body instead
// of 401, and an operator on an admin route 400 instead of 403 (SPEC §5: "No key → 401; wrong role → 403").
// This hook runs the guard's own check (authenticate: same key cache, same messages) at onRequest, for every route
// declared with @Endpoint — the access level comes from its route config (endpoint.ts). Routes without one (/docs,
// unknown paths) are left alone: the docs are public and an unknown path is a 404 for anyone.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error.js';
import { type Access, ROUTE_ACCESS } from '../common/endpoint.js';
import type { QueryOptions } from '../query.options.js';
import type { ApiKeyCache } from './api-key-cache.js';
import { authenticate } from './auth.guard.js';

export function addAuthenticationHook(
  fastify: FastifyInstance,
  keys: ApiKeyCache,
  options: QueryOptions,
  sendError: (reply: FastifyReply, error: ApiError) => void,
): void {
  fastify.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const access = (request.routeOptions.config as unknown as Record<string, unknown> | undefined)?.[ROUTE_ACCESS] as Access | undefined;
    if (access === undefined) return;
    try {
      await authenticate(request, access, keys, options);
    } catch (error) {
      if (!(error instanceof ApiError)) throw error; // e.g. the database is down: the error handler answers 503
      sendError(reply, error);
      return reply;
    }
  });
}
