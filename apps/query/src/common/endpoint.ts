// One decorator per route carries everything about it: who may call it, the TypeBox schemas of its params, query
// and body, and of its answers. The validation guard checks requests against those schemas, the auth guard reads
// the access level, and the OpenAPI document at /docs is generated from the same metadata — one source of truth.
import { applyDecorators, SetMetadata } from '@nestjs/common';
import { RouteConfig } from '@nestjs/platform-fastify';
import type { TSchema } from 'typebox';

export type Access = 'public' | 'operator' | 'admin' | 'metrics';

export interface EndpointSpec {
  summary: string;
  description?: string;
  tag: string;
  /** public: no key; operator: any valid key; admin: an admin key; metrics: public unless options.metricsPublic is false. */
  access: Access;
  params?: TSchema;
  query?: TSchema;
  body?: TSchema;
  /** Status → schema of the answer (errors are added for every route). */
  responses: Record<number, TSchema>;
}

export const ENDPOINT_SPEC = 'specfleet:endpoint';

/** Key of the Fastify route config holding the route's Access (read as request.routeOptions.config[ROUTE_ACCESS]). */
export const ROUTE_ACCESS = 'specfleetAccess';

/**
 * The access level is also handed to Fastify as route config: the authentication hook (auth/auth.hook.ts) runs at
 * onRequest, before the body is parsed and before Nest knows which handler it is, and reads it from there.
 */
export const Endpoint = (spec: EndpointSpec): MethodDecorator =>
  applyDecorators(SetMetadata(ENDPOINT_SPEC, spec), RouteConfig({ [ROUTE_ACCESS]: spec.access }));

/**
 * Marks a query/param property whose invalid value deserves a specific error code (e.g. invalid_group_by) rather
 * than the generic invalid_parameter. An OpenAPI extension keyword, so the schema stays valid JSON Schema.
 */
export const ERROR_CODE_KEYWORD = 'x-error-code';
