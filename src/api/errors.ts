import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { OnceflowError } from '../errors.js';

/** A request failure with the HTTP status and a stable code; the body is `{ error: { code, message } }`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** HTTP status of onceflow's own error codes; any other `OnceflowError` is a 500. */
const STATUS_OF: Record<string, number> = {
  INVALID_REQUEST: 400,
  TASK_NOT_FOUND: 404,
  IDEMPOTENCY_KEY_REUSED: 422,
};

/** Fastify's own request errors, renamed to stable codes of ours. */
const FASTIFY_CODES: Record<string, { status: number; code: string; message?: string }> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    message: 'request bodies must be JSON: send Content-Type: application/json',
  },
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'PAYLOAD_TOO_LARGE' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'INVALID_JSON' },
  FST_ERR_CTP_EMPTY_JSON_BODY: {
    status: 400,
    code: 'INVALID_JSON',
    message: 'Content-Type is application/json but the body is empty',
  },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'INVALID_REQUEST' },
};

function isFastifyError(err: unknown): err is FastifyError {
  return err instanceof Error && typeof (err as Partial<FastifyError>).code === 'string';
}

/** The one error handler: every failure leaves as `{ error: { code, message } }` with a stable code. */
export function toApiError(err: unknown, request: FastifyRequest): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof OnceflowError) return new ApiError(STATUS_OF[err.code] ?? 500, err.code, err.message);
  if (err instanceof WorkflowNotFoundError) return new ApiError(404, 'TASK_NOT_FOUND', err.message);
  if (err instanceof SyntaxError) return new ApiError(400, 'INVALID_JSON', err.message);
  if (isFastifyError(err)) {
    const known = FASTIFY_CODES[err.code];
    if (known) {
      const type = request.headers['content-type'];
      const message =
        known.code === 'UNSUPPORTED_MEDIA_TYPE' && type
          ? `${known.message ?? err.message} (got ${type})`
          : (known.message ?? err.message);
      return new ApiError(known.status, known.code, message);
    }
    if (err.statusCode && err.statusCode < 500)
      return new ApiError(err.statusCode, 'BAD_REQUEST', err.message);
  }
  return new ApiError(500, 'INTERNAL', err instanceof Error ? err.message : String(err));
}

/** Sends an {@link ApiError} in the API's error shape. */
export function sendError(reply: FastifyReply, error: ApiError): FastifyReply {
  return reply.code(error.status).send({ error: { code: error.code, message: error.message } });
}
