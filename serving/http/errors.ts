// The one error type a handler throws to answer with a JSON error: an HTTP status, a
// stable machine-readable `code`, a sentence for people, and optional details (the
// field path that failed validation, the inputs that are missing). The error-mapping
// middleware turns it (and anything else thrown) into `{ error: { code, message, ... } }`.

export type ErrorCode =
  | 'bad_request'
  | 'invalid_json'
  | 'validation_failed'
  | 'unsupported_media_type'
  | 'unauthorized'
  | 'forbidden'
  | 'not_found'
  | 'conflict'
  | 'method_not_allowed'
  | 'not_implemented'
  | 'payload_too_large'
  | 'work_limit_exceeded'
  | 'unknown_node'
  | 'missing_inputs'
  | 'input_corrupt'
  | 'degraded'
  | 'market_not_served'
  | 'node_not_trained'
  | 'feature_mismatch'
  | 'no_model'
  | 'warming_up'
  | 'shutting_down'
  | 'request_timeout'
  | 'internal_error';

export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
    /** Extra response headers, e.g. `WWW-Authenticate` or `Retry-After`. */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
}

/** The JSON body of every error response. */
export interface ErrorBody {
  readonly error: { readonly code: ErrorCode; readonly message: string; readonly requestId: string } & Record<string, unknown>;
}
