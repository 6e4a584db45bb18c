// Validates params, query and body against the route's TypeBox schemas before the handler runs, converting
// query-string text to the declared types (numbers, booleans) and applying defaults. The handler then receives the
// converted values through @Query()/@Param()/@Body(). A failure is a 400 with a code, naming the parameter.
// A guard, registered after the auth guard (so a request without a valid key is a 401 whatever its parameters), rather
// than an interceptor: a route without interceptors skips Nest's RxJS pipeline (defer, mergeAll, an Observable per
// request, then back to a promise), which was a measurable part of a fleet-status request's CPU time.
import { type CanActivate, type ExecutionContext, Inject, Injectable } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { FastifyRequest } from 'fastify';
import type { TSchema } from 'typebox';
import { Compile, type Validator } from 'typebox/compile';
import Value from 'typebox/value';
import { ApiError, type ErrorCode } from './api-error.js';
import { ENDPOINT_SPEC, ERROR_CODE_KEYWORD, type EndpointSpec } from './endpoint.js';

const validators = new WeakMap<TSchema, Validator>();

function validatorOf(schema: TSchema): Validator {
  let v = validators.get(schema);
  if (!v) {
    v = Compile(schema);
    validators.set(schema, v);
  }
  return v;
}

type Where = 'path' | 'query' | 'body';

/** Converts and checks `input`; returns the converted value or throws ApiError naming the first bad field. */
export function validateAgainst(schema: TSchema, input: unknown, where: Where): unknown {
  // Query strings repeat keys as arrays; a scalar parameter given twice is an error, not "the first one".
  const base = input ?? (where === 'body' ? undefined : {});
  const value = where === 'body' ? Value.Default(schema, Value.Clone(base)) : Value.Convert(schema, Value.Default(schema, Value.Clone(base)));
  const validator = validatorOf(schema);
  if (validator.Check(value)) return value;
  const first = validator.Errors(value)[0];
  const path = first?.instancePath ?? '';
  const name = path.replace(/^\//, '').split('/')[0] ?? '';
  const property = propertySchema(schema, name);
  const specific = property?.[ERROR_CODE_KEYWORD] as ErrorCode | undefined;
  const code: ErrorCode = specific ?? (where === 'body' ? 'invalid_body' : 'invalid_parameter');
  const allowed = allowedValues(property);
  if (first?.keyword === 'additionalProperties') {
    const extra = (first.params as { additionalProperties?: string[] } | undefined)?.additionalProperties?.join(', ');
    throw new ApiError(code, `unknown ${where === 'query' ? 'query parameter' : where === 'path' ? 'path parameter' : 'field'}${extra ? ` ${extra}` : ''}`);
  }
  if (first?.keyword === 'required') {
    const missing = (first.params as { requiredProperties?: string[] } | undefined)?.requiredProperties?.join(', ');
    throw new ApiError(code, `missing ${where === 'body' ? 'field' : 'parameter'}${missing ? ` ${missing}` : ''}`);
  }
  const label = name === '' ? (where === 'body' ? 'the body' : where) : `${where === 'body' ? 'field' : 'parameter'} ${path.slice(1)}`;
  throw new ApiError(code, allowed ? `${label} must be one of ${allowed.join(', ')}` : `${label} ${first?.message ?? 'is invalid'}`);
}

function propertySchema(schema: TSchema, name: string): Record<string, unknown> | undefined {
  const props = (schema as { properties?: Record<string, Record<string, unknown>> }).properties;
  return name ? props?.[name] : undefined;
}

function allowedValues(schema: Record<string, unknown> | undefined): string[] | undefined {
  const anyOf = schema?.anyOf as Array<{ const?: unknown }> | undefined;
  if (Array.isArray(anyOf) && anyOf.every((s) => s.const !== undefined)) return anyOf.map((s) => String(s.const));
  const en = schema?.enum as unknown[] | undefined;
  return Array.isArray(en) ? en.map(String) : undefined;
}

@Injectable()
export class ValidationGuard implements CanActivate {
  constructor(@Inject(Reflector) private readonly reflector: Reflector) {}

  canActivate(context: ExecutionContext): boolean {
    const spec = this.reflector.get<EndpointSpec | undefined>(ENDPOINT_SPEC, context.getHandler());
    if (spec) {
      const request = context.switchToHttp().getRequest<FastifyRequest>();
      const r = request as unknown as { params: unknown; query: unknown; body: unknown };
      if (spec.params) r.params = validateAgainst(spec.params, r.params, 'path');
      if (spec.query) r.query = validateAgainst(spec.query, r.query, 'query');
      if (spec.body) r.body = validateAgainst(spec.body, r.body, 'body');
    }
    return true;
  }
}
