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
  checkRaw(schema, base, where);
  const value = where === 'body' ? Value.Default(schema, Value.Clone(base)) : Value.Convert(schema, Value.Default(schema, Value.Clone(base)));
  const validator = validatorOf(schema);
  if (validator.Check(value)) return value;
  const first = validator.Errors(value)[0];
  const path = first?.instancePath ?? '';
  const name = path.replace(/^\//, '').split('/')[0] ?? '';
  const property = propertySchema(schema, name);
  const code = codeFor(property, where);
  const allowed = allowedValues(property);
  if (first?.keyword === 'additionalProperties' || (name !== '' && property === undefined && isClosedObject(schema))) {
    // typebox 1.x reports an unknown property as the `false` sub-schema of additionalProperties at its path.
    throw unknownProperty(where, name);
  }
  if (first?.keyword === 'required') {
    const missing = (first.params as { requiredProperties?: string[] } | undefined)?.requiredProperties?.join(', ');
    throw new ApiError(code, `missing ${where === 'body' ? 'field' : 'parameter'}${missing ? ` ${missing}` : ''}`);
  }
  const label = name === '' ? (where === 'body' ? 'the body' : where) : `${where === 'body' ? 'field' : 'parameter'} ${path.slice(1)}`;
  throw new ApiError(code, allowed ? `${label} must be one of ${allowed.join(', ')}` : `${label} ${first?.message ?? 'is invalid'}`);
}

/**
 * Checks on the raw text that conversion would hide or that the database would only refuse later (as a 500):
 *  - an unknown parameter, named (also __proto__ and constructor, which conversion silently drops);
 *  - a NUL (U+0000) anywhere in a string: PostgreSQL text cannot hold it (22021), whatever the parameter;
 *  - a scalar parameter given more than once;
 *  - an integer parameter that is not plain decimal digits: conversion would read 1.5 as 1 and 0x10 as 16.
 */
function checkRaw(schema: TSchema, input: unknown, where: Where): void {
  if (where !== 'body' && isRecord(input) && isClosedObject(schema)) {
    for (const key of Object.keys(input)) if (propertySchema(schema, key) === undefined) throw unknownProperty(where, key);
  }
  const nul = findNul(input, '');
  if (nul !== undefined) {
    const name = nul.replace(/^\//, '').split('/')[0] ?? '';
    const label = nul === '' ? (where === 'body' ? 'the body' : where) : `${where === 'body' ? 'field' : 'parameter'} ${nul.slice(1)}`;
    throw new ApiError(codeFor(propertySchema(schema, name), where), `${label} must not contain a NUL character (U+0000)`);
  }
  if (where === 'body' || !isRecord(input)) return;
  for (const [key, raw] of Object.entries(input)) {
    const property = propertySchema(schema, key);
    if (Array.isArray(raw) && property?.type !== 'array') throw new ApiError(codeFor(property, where), `parameter ${key} may be given only once`);
    if (property?.type === 'integer' && typeof raw === 'string' && !/^-?\d+$/.test(raw)) {
      throw new ApiError(codeFor(property, where), `parameter ${key} must be an integer written in decimal digits, got ${JSON.stringify(raw.slice(0, 20))}`);
    }
  }
}

/** The JSON-pointer path of the first string (value or key) holding U+0000, or undefined. */
function findNul(value: unknown, path: string): string | undefined {
  if (typeof value === 'string') return value.includes('\u0000') ? path : undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const hit = findNul(item, path);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) return `/${JSON.stringify(key).slice(1, -1)}`;
      const hit = findNul(item, `${path}/${key}`);
      if (hit !== undefined) return hit;
    }
  }
  return undefined;
}

function unknownProperty(where: Where, name: string): ApiError {
  const what = where === 'query' ? 'query parameter' : where === 'path' ? 'path parameter' : 'field';
  // JSON.stringify: the name is the caller's text, quoted so control characters cannot reshape the message.
  return new ApiError(where === 'body' ? 'invalid_body' : 'invalid_parameter', `unknown ${what} ${JSON.stringify(name)}`);
}

function codeFor(property: Record<string, unknown> | undefined, where: Where): ErrorCode {
  return (property?.[ERROR_CODE_KEYWORD] as ErrorCode | undefined) ?? (where === 'body' ? 'invalid_body' : 'invalid_parameter');
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isClosedObject(schema: TSchema): boolean {
  return (schema as { additionalProperties?: unknown }).additionalProperties === false;
}

function propertySchema(schema: TSchema, name: string): Record<string, unknown> | undefined {
  const props = (schema as { properties?: Record<string, Record<string, unknown>> }).properties;
  // Object.hasOwn: a parameter called constructor or __proto__ must not find Object.prototype's members.
  return name && props && Object.hasOwn(props, name) ? props[name] : undefined;
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
