// Every route is closed unless its @Endpoint says otherwise: a Bearer API key is looked up by digest (revoked keys
// do not match; ApiKeyCache keeps a found key for a few seconds), its tenant and role become the request's principal,
// and admin routes refuse operator keys.
// The check runs first in the onRequest hook (auth.hook.ts), so a request without a valid key is a 401 — and an
// operator on an admin route a 403 — before Fastify reads its body (else a bad body answered 400/413/415 first). The
// guard stays as defence in depth: it trusts a principal the hook set only after checking the role again, and
// authenticates itself when no hook ran (a QueryModule mounted without createQueryApp).
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error.js';
import { type Access, ENDPOINT_SPEC, type EndpointSpec } from '../common/endpoint.js';
import { QUERY_OPTIONS, type QueryOptions } from '../query.options.js';
import { bearerToken } from './api-key.js';
import { ApiKeyCache } from './api-key-cache.js';
import { type Principal, principalOf, setPrincipal } from './principal.js';

/** Whether a route of this access level needs a key at all under these options. */
export function needsKey(access: Access, options: QueryOptions): boolean {
  return !(access === 'public' || (access === 'metrics' && options.metricsPublic));
}

function checkRole(access: Access, principal: Principal): void {
  if (access === 'admin' && principal.role !== 'admin') throw new ApiError('forbidden', 'this operation needs an admin API key');
}

/**
 * Authenticates a request for a route of this access level: sets and returns its principal, or undefined for a route
 * that needs no key; throws ApiError unauthorized (401) or forbidden (403). Used by the hook and the guard alike.
 */
export async function authenticate(request: FastifyRequest, access: Access, keys: ApiKeyCache, options: QueryOptions): Promise<Principal | undefined> {
  if (!needsKey(access, options)) return undefined;
  const known = principalOf(request);
  if (known) {
    checkRole(access, known);
    return known;
  }
  const token = bearerToken(request.headers.authorization);
  if (token === undefined) throw new ApiError('unauthorized', 'an API key is required: Authorization: Bearer <key>');
  const key = await keys.find(token);
  if (!key) throw new ApiError('unauthorized', 'unknown or revoked API key');
  const principal: Principal = { keyId: key.id, tenantId: key.tenantId, role: key.role };
  checkRole(access, principal);
  setPrincipal(request, principal);
  return principal;
}

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiKeyCache) private readonly keys: ApiKeyCache,
    @Inject(QUERY_OPTIONS) private readonly options: QueryOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const spec = this.reflector.get<EndpointSpec | undefined>(ENDPOINT_SPEC, context.getHandler());
    await authenticate(context.switchToHttp().getRequest<FastifyRequest>(), spec?.access ?? 'operator', this.keys, this.options);
    return true;
  }
}
