import { ApplicationFailure } from '@temporalio/common';
import { OnceflowError } from '../errors.js';
import { TOLD_TO_MODEL } from './told-to-model.js';

/**
 * Converts an error at the activity boundary: a {@link OnceflowError} becomes an `ApplicationFailure`
 * with `type = code`, `nonRetryable = !retryable`, the error's `details` (when it has any) as the
 * first details entry and, for errors whose class sets `toldToModel`, the {@link TOLD_TO_MODEL}
 * marker as the last; anything else is returned unchanged, for Temporal's retry policy to judge.
 */
export function toApplicationFailure(err: unknown): unknown {
  if (!(err instanceof OnceflowError)) return err;
  const details = (err as { details?: unknown }).details;
  const entries = [
    ...(details === undefined ? (err.toldToModel ? [null] : []) : [details]),
    ...(err.toldToModel ? [TOLD_TO_MODEL] : []),
  ];
  const failure = ApplicationFailure.create({
    type: err.code,
    message: err.message,
    nonRetryable: !err.retryable,
    ...(entries.length ? { details: entries } : {}),
    ...(err.cause instanceof Error ? { cause: err.cause } : {}),
  });
  if (err.stack !== undefined) failure.stack = err.stack;
  return failure;
}
