import { OnceflowError } from '../errors.js';
import { shortKey } from './keys.js';

/**
 * The same intent key arrived with another fingerprint: the same action with different terms (charge
 * order 42 again, but another amount). Never executed, never replayed; terminal (HTTP 422 semantics).
 */
export class IdempotencyKeyReusedError extends OnceflowError {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  override readonly toldToModel = true;
  readonly retryable = false;
  readonly key: string;
  readonly storedFingerprint: string;
  readonly requestFingerprint: string;

  constructor(key: string, storedFingerprint: string, requestFingerprint: string) {
    super(
      `intent key ${key} was first used with fingerprint ${storedFingerprint} and now with ${requestFingerprint}: ` +
        'the same action was requested with different terms, so it is neither performed again nor replayed',
    );
    this.key = key;
    this.storedFingerprint = storedFingerprint;
    this.requestFingerprint = requestFingerprint;
  }

  get details() {
    return {
      key: this.key,
      storedFingerprint: this.storedFingerprint,
      requestFingerprint: this.requestFingerprint,
    };
  }
}

/**
 * Another attempt holds a live lease on this key (a concurrent duplicate). Retryable (HTTP 409
 * semantics): back off and try again, and the retry replays the other attempt's outcome.
 */
export class KeyInUseError extends OnceflowError {
  readonly code = 'KEY_IN_USE';
  readonly retryable = true;
  readonly key: string;
  readonly leaseExpiresAt: Date | undefined;

  constructor(key: string, leaseExpiresAt?: Date) {
    super(
      `intent key ${shortKey(key)} is being performed by another attempt` +
        (leaseExpiresAt ? ` (lease until ${leaseExpiresAt.toISOString()})` : '') +
        '; retry later',
    );
    this.key = key;
    this.leaseExpiresAt = leaseExpiresAt;
  }

  get details() {
    return { key: this.key, leaseExpiresAt: this.leaseExpiresAt?.toISOString() };
  }
}

/**
 * An earlier attempt may or may not have had its effect and nothing can tell which: a crashed attempt
 * under recovery `escalate`, or a `verify` that could not decide. Terminal; the ledger row is marked
 * `needs_attention` for a person, and every later request for the key gets this error until they act.
 */
export class OutcomeUnknownError extends OnceflowError {
  readonly code = 'OUTCOME_UNKNOWN';
  override readonly toldToModel = true;
  readonly retryable = false;
  readonly key: string;

  constructor(key: string, reason: string, options?: { cause?: unknown }) {
    super(`outcome of intent key ${key} is unknown: ${reason}; marked for a person to resolve`, options);
    this.key = key;
  }

  get details() {
    return { key: this.key };
  }
}

/**
 * A terminal outcome of the effect itself (a declined card, an invalid recipient), with a caller-given
 * `code` such as `'CARD_DECLINED'`. Non-retryable. Thrown by a `perform`, it is stored in the ledger and
 * thrown again, rebuilt from the row, for every later request with the same key and fingerprint.
 * `details` must be JSON-serialisable.
 */
export class BusinessError extends OnceflowError {
  readonly code: string;
  override readonly toldToModel = true;
  readonly retryable = false;
  readonly details: unknown;

  constructor(code: string, message: string, details?: unknown) {
    super(message);
    this.code = code;
    this.details = details;
  }

  /** The form stored in the ledger's `error` column. */
  toJSON(): StoredBusinessError {
    return {
      code: this.code,
      message: this.message,
      ...(this.details === undefined ? {} : { details: this.details }),
    };
  }

  /** Rebuilds the error from its stored form. */
  static fromJSON(stored: StoredBusinessError): BusinessError {
    return new BusinessError(stored.code, stored.message, stored.details);
  }
}

/** A {@link BusinessError} as stored in the ledger. */
export interface StoredBusinessError {
  code: string;
  message: string;
  details?: unknown;
}

/**
 * The effect was performed and later undone: its compensation (`key:undo`) succeeded, in this run or
 * in a run that a reset has since replaced. Terminal and never a replay: the caller learns that the
 * effect is *not* in effect, with the original result for reference. Doing the action again is a new
 * intent, which needs a new business reference (another order, booking, invoice ID) and so a new key.
 */
export class EffectUndoneError extends OnceflowError {
  /** The failure type workflows match on. */
  static readonly CODE = 'EFFECT_UNDONE';
  readonly code = EffectUndoneError.CODE;
  readonly retryable = false;
  override readonly toldToModel = true;
  readonly key: string;
  /** What the effect returned when it was performed. */
  readonly result: unknown;
  readonly undoneAt: Date;

  constructor(key: string, result: unknown, undoneAt: Date) {
    super(
      `intent key ${shortKey(key)} was done and then undone (its compensation succeeded at ${undoneAt.toISOString()}); ` +
        'it is not in effect and will not be done again under the same key: doing it again needs a new business reference',
    );
    this.key = key;
    this.result = result;
    this.undoneAt = undoneAt;
  }

  get details() {
    return { key: this.key, result: this.result, undoneAt: this.undoneAt.toISOString() };
  }
}
