// Generates the OpenAPI 3.1 document from the controllers' routes and their @Endpoint metadata — the very TypeBox
// schemas the validation guard checks requests against — so the docs cannot drift from the behaviour.
import { RequestMethod, type Type as ClassType } from '@nestjs/common';
import { METHOD_METADATA, PATH_METADATA } from '@nestjs/common/constants.js';
import type { TSchema } from 'typebox';
import { ENDPOINT_SPEC, type EndpointSpec } from '../common/endpoint.js';
import { ErrorResponse } from '../common/schemas.js';

type JsonSchema = Record<string, unknown>;

const ERROR_STATUSES: Record<string, string> = {
  '400': 'bad parameter: the error code names the problem (invalid_time, invalid_range, range_too_long, invalid_group_by, page_too_large, range_before_retention, …)',
  '401': 'no API key, or an unknown or revoked one',
  '404': 'no such vehicle in your tenant',
  '503': 'timeout (the query hit the statement timeout: narrow the range or the page) or unavailable (the database cannot be reached, or the server is shutting down): retry',
};

function joinPath(...parts: string[]): string {
  const path = `/${parts.map((p) => p.replace(/^\/+|\/+$/g, '')).filter((p) => p.length > 0).join('/')}`;
  return path.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}

/** Query/path parameters from an object schema: one OpenAPI parameter per property. */
function parameters(schema: TSchema | undefined, where: 'query' | 'path'): JsonSchema[] {
  if (!schema) return [];
  const s = schema as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(s.properties ?? {}).map(([name, prop]) => {
    const { description, ...rest } = prop;
    return { name, in: where, required: where === 'path' || (s.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest };
  });
}

export interface OpenApiInfo {
  title: string;
  version: string;
  description: string;
}

export function buildOpenApiDocument(controllers: ReadonlyArray<ClassType<unknown>>, info: OpenApiInfo): JsonSchema {
  const paths: Record<string, Record<string, JsonSchema>> = {};
  for (const controller of controllers) {
    const base = (Reflect.getMetadata(PATH_METADATA, controller) as string | undefined) ?? '';
    const proto = controller.prototype as Record<string, unknown>;
    for (const name of Object.getOwnPropertyNames(proto)) {
      const handler = proto[name];
      if (name === 'constructor' || typeof handler !== 'function') continue;
      const spec = Reflect.getMetadata(ENDPOINT_SPEC, handler) as EndpointSpec | undefined;
      const route = Reflect.getMetadata(PATH_METADATA, handler) as string | undefined;
      const method = Reflect.getMetadata(METHOD_METADATA, handler) as RequestMethod | undefined;
      if (!spec || route === undefined || method === undefined) continue;
      const path = joinPath(base, route);
      const verb = RequestMethod[method].toLowerCase();
      const responses: Record<string, JsonSchema> = {};
      for (const [status, schema] of Object.entries(spec.responses)) {
        responses[status] = { description: spec.summary, content: { 'application/json': { schema } } };
      }
      const errors: Record<string, string> = { ...(spec.query || spec.body || spec.params ? { '400': ERROR_STATUSES['400'] ?? '' } : {}) };
      if (spec.access !== 'public') errors['401'] = ERROR_STATUSES['401'] ?? '';
      if (spec.access === 'admin') errors['403'] = 'this operation needs an admin API key';
      if (path.includes('{id}')) errors['404'] = ERROR_STATUSES['404'] ?? '';
      // A body is read as JSON of at most 64 KiB: anything else is refused before the handler.
      if (spec.body) {
        errors['413'] = 'payload_too_large: a body over 64 KiB';
        errors['415'] = 'unsupported_media_type: a body of a media type the API does not read (send application/json)';
      }
      // Creating under a global id (vehicle ids are MQTT usernames) can find it taken.
      if (verb === 'post' && spec.body && !path.includes('{id}')) errors['409'] = 'vehicle_exists: the id is taken (by a vehicle of any tenant, or a service account)';
      // Every route that reads the database can time out or find it gone; a declared 503 body (readiness) stays.
      if (spec.access !== 'public' && !('503' in spec.responses)) errors['503'] = ERROR_STATUSES['503'] ?? '';
      for (const [status, description] of Object.entries(errors)) {
        responses[status] = { description, content: { 'application/json': { schema: ErrorResponse } } };
      }
      (paths[path] ??= {})[verb] = {
        tags: [spec.tag],
        summary: spec.summary,
        ...(spec.description ? { description: spec.description } : {}),
        operationId: `${controller.name.replace(/Controller$/, '')}_${name}`,
        ...(spec.access === 'public' || spec.access === 'metrics' ? { security: [] } : {}),
        parameters: [...parameters(spec.params, 'path'), ...parameters(spec.query, 'query')],
        ...(spec.body ? { requestBody: { required: true, content: { 'application/json': { schema: spec.body } } } } : {}),
        responses,
      };
    }
  }
  return {
    openapi: '3.1.0',
    info,
    components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'an API key of your tenant (operator or admin)' } } },
    security: [{ apiKey: [] }],
    paths,
  };
}
