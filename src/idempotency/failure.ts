import { ApplicationFailure } from '@temporalio/common';
import { OnceflowError } from '../errors.js';

/**
 * Converts an error at the activity boundary: a {@link OnceflowError} becomes an `ApplicationFailure`
 * with `type = code`, `nonRetryable = !retryable` and the error's `details` (when it has any) as the
 * single details entry; anything else is returned unchanged, for Temporal's retry policy to judge.
 */
export function toApplicationFailure(err: unknown): unknown {
  if (!(err instanceof OnceflowError)) return err;
  const details = (err as { details?: unknown }).details;
  const failure = ApplicationFailure.create({
    type: err.code,
    message: err.message,
    nonRetryable: !err.retryable,
    ...(details === undefined ? {} : { details: [details] }),
    ...(err.cause instanceof Error ? { cause: err.cause } : {}),
  });
  if (err.stack !== undefined) failure.stack = err.stack;
  return failure;
}
