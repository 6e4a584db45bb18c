// Turns every exception into {"error":{"code","message"}} with the right status; never a stack trace, never a raw
// driver message. Unknown errors are logged (with the stack) and answered as a generic 500.
import { type ArgumentsHost, Catch, type ExceptionFilter, HttpException } from '@nestjs/common';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Logger } from '@fleet/config';
import { ApiError, errorBody } from './api-error.js';

// Our own code throws ApiError only; an HttpException comes from the framework (body parsing, size and media-type
// checks, unknown routes), so a 400 there is always about the body.
const STATUS_CODES: Record<number, string> = {
  400: 'invalid_body',
  401: 'unauthorized',
  403: 'forbidden',
  404: 'not_found',
  405: 'method_not_allowed',
  406: 'not_acceptable',
  413: 'payload_too_large',
  415: 'unsupported_media_type',
  429: 'too_many_requests',
};

/** What a thrown value becomes on the wire (exported for unit tests). */
export function toErrorResponse(error: unknown): { status: number; code: string; message: string; unexpected: boolean } {
  if (error instanceof ApiError) return { status: error.status, code: error.code, message: error.message, unexpected: false };
  if (error instanceof HttpException) {
    const status = error.getStatus();
    const body = error.getResponse();
    const message =
      typeof body === 'string' ? body : typeof body === 'object' && body !== null && 'message' in body ? String((body as { message: unknown }).message) : error.message;
    if (status === 404) return { status, code: 'not_found', message: 'no such route', unexpected: false };
    return { status, code: STATUS_CODES[status] ?? (status >= 500 ? 'internal' : 'invalid_request'), message, unexpected: status >= 500 };
  }
  // Fastify's own errors (body parsing, size limits) carry statusCode and a FST_* code.
  const e = error as { statusCode?: unknown; code?: unknown; message?: unknown };
  if (typeof e?.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) {
    const code = STATUS_CODES[e.statusCode] ?? 'invalid_request';
    return { status: e.statusCode, code, message: typeof e.message === 'string' ? e.message : code, unexpected: false };
  }
  // PostgreSQL statement_timeout (57014 query_canceled): the request asked for too much work.
  if (e?.code === '57014') {
    return { status: 503, code: 'timeout', message: 'the query took longer than the statement timeout; narrow the time range or the page size', unexpected: false };
  }
  // The database cannot be reached or is going away: an outage, not a bug, so a retryable 503 (still logged, as the
  // operator needs to know). The driver's text is not passed on: it may name hosts and ports.
  if (isDatabaseUnavailable(error)) {
    return { status: 503, code: 'unavailable', message: 'the database is unavailable; retry later', unexpected: true };
  }
  return { status: 500, code: 'internal', message: 'internal error', unexpected: true };
}

// SQLSTATEs of a server that refuses or drops us: 57P01 admin_shutdown, 57P02 crash_shutdown, 57P03
// cannot_connect_now (starting up, recovering), 53300 too_many_connections; class 08 is connection_exception.
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300']);
// Socket errors on the way to the server (Node sets them as `code`, also on the AggregateError of a dual-stack connect).
const UNAVAILABLE_ERRNOS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);
// node-postgres and pg-pool raise these without a code: a dropped connection, a pool whose connectionTimeoutMillis
// ran out, a pool already ended during shutdown.
const UNAVAILABLE_MESSAGES = [
  'Connection terminated unexpectedly',
  'Connection terminated due to connection timeout',
  'timeout exceeded when trying to connect',
  'Cannot use a pool after calling end on the pool',
];

function isDatabaseUnavailable(error: unknown): boolean {
  // A wrapper (Kysely, pg-pool's connection timeout) may keep the original as `cause`; a few levels suffice.
  for (let e = error as { code?: unknown; message?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === 'string' ? e.code : undefined;
    if (code && (UNAVAILABLE_SQLSTATES.has(code) || /^08[0-9A-Z]{3}$/.test(code) || UNAVAILABLE_ERRNOS.has(code))) return true;
    if (typeof e.message === 'string' && UNAVAILABLE_MESSAGES.includes(e.message)) return true;
  }
  return false;
}

@Catch()
export class ErrorFilter implements ExceptionFilter {
  constructor(private readonly logger: Logger) {}

  catch(error: unknown, host: ArgumentsHost): void {
    const http = host.switchToHttp();
    const reply = http.getResponse<FastifyReply>();
    const request = http.getRequest<FastifyRequest>();
    const { status, code, message, unexpected } = toErrorResponse(error);
    if (unexpected) this.logger.error({ err: error, method: request?.method, url: request?.routeOptions?.url }, 'request failed');
    void reply.status(status).header('content-type', 'application/json; charset=utf-8').send(errorBody(code, message));
  }
}
