// Every route is closed unless its @Endpoint says otherwise: a Bearer API key is looked up by digest (revoked keys
// do not match; ApiKeyCache keeps a found key for a few seconds), its tenant and role become the request's principal,
// and admin routes refuse operator keys.
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import { ApiError } from '../common/api-error.js';
import { ENDPOINT_SPEC, type EndpointSpec } from '../common/endpoint.js';
import { QUERY_OPTIONS, type QueryOptions } from '../query.options.js';
import { bearerToken } from './api-key.js';
import { ApiKeyCache } from './api-key-cache.js';
import { setPrincipal } from './principal.js';

@Injectable()
export class AuthGuard implements CanActivate {
  constructor(
    @Inject(Reflector) private readonly reflector: Reflector,
    @Inject(ApiKeyCache) private readonly keys: ApiKeyCache,
    @Inject(QUERY_OPTIONS) private readonly options: QueryOptions,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const spec = this.reflector.get<EndpointSpec | undefined>(ENDPOINT_SPEC, context.getHandler());
    const access = spec?.access ?? 'operator';
    if (access === 'public' || (access === 'metrics' && this.options.metricsPublic)) return true;

    const request = context.switchToHttp().getRequest<FastifyRequest>();
    const token = bearerToken(request.headers.authorization);
    if (token === undefined) throw new ApiError('unauthorized', 'an API key is required: Authorization: Bearer <key>');
    const key = await this.keys.find(token);
    if (!key) throw new ApiError('unauthorized', 'unknown or revoked API key');
    if (access === 'admin' && key.role !== 'admin') throw new ApiError('forbidden', 'this operation needs an admin API key');
    setPrincipal(request, { keyId: key.id, tenantId: key.tenantId, role: key.role });
    return true;
  }
}
