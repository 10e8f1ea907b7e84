import { OnceflowError } from '../errors.js';

/** A task request that cannot be accepted as given: a field names what and why. Terminal. */
export class InvalidTaskRequestError extends OnceflowError {
  readonly code = 'INVALID_REQUEST';
  readonly retryable = false;
}

/**
 * The idempotency key (or task ID) was first used with another request body. Terminal: a retry must
 * send the first body again, or a new request needs a new key.
 */
export class IdempotencyKeyReusedError extends OnceflowError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  readonly retryable = false;
}

/** Temporal has no workflow with this ID (never started, or past the namespace's retention). */
export class TaskNotFoundError extends OnceflowError {
  readonly code = 'TASK_NOT_FOUND';
  readonly retryable = false;
}
