// The one error type of the query API: a status and a stable machine-readable code, rendered by the error filter
// as {"error":{"code","message"}}. Services throw these; nothing else reaches the client.

export const ERROR_CODES = {
  // 400
  invalid_parameter: 400,
  invalid_time: 400,
  invalid_range: 400,
  range_too_long: 400,
  invalid_group_by: 400,
  invalid_bucket: 400,
  too_many_buckets: 400,
  range_before_retention: 400,
  page_too_large: 400,
  invalid_cursor: 400,
  invalid_body: 400,
  // 401 / 403 / 404 / 409
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  vehicle_exists: 409,
  // 413 / 415 / 429 / 5xx
  payload_too_large: 413,
  unsupported_media_type: 415,
  too_many_requests: 429,
  timeout: 503,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = ERROR_CODES[code];
  }
}

export interface ErrorBody {
  error: { code: string; message: string };
}

export function errorBody(code: string, message: string): ErrorBody {
  return { error: { code, message } };
}
