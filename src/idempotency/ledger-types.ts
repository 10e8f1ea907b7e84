import type { RecoveryPolicy } from './ledger-rows.js';

/** What `verify` reports: the effect was found downstream (with its result), or it was not. */
export type VerifyResult<T> = { found: true; result: T } | { found: false };

/** One guarded effect. */
export interface OnceRequest<T> {
  /** The intent key (see `intentKey` / `deriveIntent`). */
  key: string;
  /** The business task the key belongs to (the workflow ID). */
  scope: string;
  /** The tool or operation name, for stats and people. */
  operation: string;
  /** Fingerprint of the request's identity and stable fields (see `deriveIntent`). */
  fingerprint: string;
  /** What to do when an earlier attempt crashed (its row is `in_progress` with an expired lease). */
  recovery: RecoveryPolicy;
  /** How long a claim lives without completing before it counts as crashed. Default: the ledger's `leaseMs`. */
  leaseMs?: number;
  /** Asks the downstream whether the effect already happened. Required when `recovery` is `'verify'`. */
  verify?: () => Promise<VerifyResult<T>>;
  /**
   * A hint that the key is most likely new (e.g. the first attempt of an activity): claim before
   * reading. A first execution then costs two statements instead of three, and a replay two instead of
   * one. Same outcomes either way. Default false: read first, so a replay is a single SELECT.
   */
  claimFirst?: boolean;
  /**
   * How to undo the effect should the task that asked for it lose track of it (JSON, stored with the
   * claim; see {@link Ledger.unrecorded}). Default none.
   */
  undo?: unknown;
}

/**
 * How the result came about: `executed` (performed under a fresh or released claim), `replayed` (read
 * from a finished row, nothing performed), `recovered` (an earlier attempt crashed and the recovery
 * policy completed the key: `resume` performed again, or `verify` found the effect or performed).
 */
export type OnceOutcome = 'executed' | 'replayed' | 'recovered';

/** What {@link Ledger.once} returns. `result` is always the JSON round trip of what `perform` returned. */
export interface OnceResult<T> {
  outcome: OnceOutcome;
  result: T;
  key: string;
  /** Claims of this key so far, this one included (1 on a first execution). */
  attempts: number;
  /** When the key was first claimed. */
  firstExecutedAt: Date;
}

/** Handed to `perform`. */
export interface PerformContext {
  /** The intent key: hand it to the downstream (Idempotency-Key, Message-ID, unique column). */
  key: string;
  /** 1 on the first claim, then one more per take-over. */
  attempt: number;
  /** An earlier attempt may have reached the downstream: it must dedup by `key`. */
  recovering: boolean;
}

/** Options of {@link Ledger}. */
export interface LedgerOptions {
  /** Lease owner written on claims. Default `hostname:pid:random`. */
  owner?: string;
  /** Default lease of a claim, in ms. Default 30 000. */
  leaseMs?: number;
  /** How long a row is kept after its first claim; longer than the longest task. Default 30 days. */
  retentionMs?: number;
  /**
   * Clock for leases, timestamps and pruning. Default `() => new Date()`. Leases written by one process
   * are judged by another's clock, so keep hosts NTP-synced: skew shortens or stretches a lease.
   */
  now?: () => Date;
  /** How often buffered replay/conflict/in-flight counters are written. Default 1000 ms. */
  statsFlushMs?: number;
}

/** What {@link Ledger.stepOutcome} reports of a step a compensation is about to undo. */
export type StepOutcome =
  | { status: 'performed'; result: unknown }
  | { status: 'not_performed'; reason: string }
  /**
   * `lastError`: the code an attempt released the claim with (`MCP_TOOL_ERROR`, a transient failure),
   * absent when the attempt crashed without one: lets a compensation tell "the downstream said no" from
   * "nobody knows".
   */
  | { status: 'unknown'; lastError?: string };
