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
  return { status: 500, code: 'internal', message: 'internal error', unexpected: true };
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
