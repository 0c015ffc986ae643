/**
 * Errors in OpenAI's shape: {"error": {"message", "type", "param", "code"}} with the status code
 * OpenAI uses, so OpenAI clients raise their usual typed errors (BadRequestError, ...).
 */
export type OpenAiErrorType =
  | 'invalid_request_error'
  | 'authentication_error'
  | 'not_found_error'
  | 'rate_limit_error'
  | 'server_error';

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly type: OpenAiErrorType,
    readonly code: string | null = null,
    readonly param: string | null = null,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
    this.name = 'HttpError';
  }

  body(): { error: { message: string; type: string; param: string | null; code: string | null } } {
    return { error: { message: this.message, type: this.type, param: this.param, code: this.code } };
  }
}

export const httpErrors = {
  badRequest: (message: string, param: string | null = null, code: string | null = null) =>
    new HttpError(400, message, 'invalid_request_error', code, param),
  unauthorized: (message: string) => new HttpError(401, message, 'authentication_error', 'invalid_api_key'),
  notFound: (message: string, code = 'not_found') => new HttpError(404, message, 'not_found_error', code),
  methodNotAllowed: (method: string, path: string) =>
    new HttpError(405, `${method} is not allowed on ${path}`, 'invalid_request_error', 'method_not_allowed'),
  tooLarge: (limit: number) =>
    new HttpError(413, `request body is larger than ${limit} bytes`, 'invalid_request_error', 'request_too_large'),
  queueFull: (retryAfterSeconds: number) =>
    new HttpError(429, 'the server is busy: the request queue is full, retry later', 'rate_limit_error', 'queue_full', null, {
      'retry-after': String(retryAfterSeconds),
    }),
  shuttingDown: () => new HttpError(503, 'the server is shutting down', 'server_error', 'shutting_down'),
  internal: (message: string) => new HttpError(500, message, 'server_error', 'internal_error'),
};
