/**
 * Base class of every error onceflow raises on purpose.
 *
 * `code` is a stable string that callers, tests and Temporal failure types match on; `retryable`
 * tells the activity boundary whether Temporal may try again (Restate's retryable/terminal split).
 */
export abstract class OnceflowError extends Error {
  abstract readonly code: string;
  abstract readonly retryable: boolean;
  /**
   * True when the error is the tool's answer rather than a failure of the task: a declined card, a
   * conflicting key, an effect already undone. The agent loop returns it to the model as an `is_error`
   * tool result; any other error fails the activity for Temporal's retry policy, then the task.
   */
  readonly toldToModel: boolean = false;
  /**
   * True when the downstream answered that it did nothing (an MCP tool's `isError`, a request it refused
   * as malformed, a call never sent): `effect()`'s ledger forgets the attempt's claim instead of keeping
   * it, so the key is free again, with any terms, for the corrected call.
   */
  readonly nothingDone: boolean = false;

  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** A configuration variable is missing or invalid. Terminal: fix the environment and restart. */
export class ConfigError extends OnceflowError {
  readonly code = 'CONFIG_INVALID';
  readonly retryable = false;
}

/** A prerequisite of the embedded mode (Temporal CLI, Postgres binaries) cannot be provided. */
export class PrerequisiteError extends OnceflowError {
  readonly code = 'PREREQUISITE_MISSING';
  readonly retryable = false;
}
