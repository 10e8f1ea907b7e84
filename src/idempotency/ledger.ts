import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type pg from 'pg';
import { deleteInBatches } from '../db/batches.js';
import { OnceflowError } from '../errors.js';
import {
  BusinessError,
  EffectUndoneError,
  IdempotencyKeyReusedError,
  KeyInUseError,
  OutcomeUnknownError,
} from './errors.js';
import { approvalsOf, pruneApprovals, recordApproval, type EffectApproval } from './approvals.js';
import { compensationKey } from './keys.js';
import {
  SQL,
  toLedgerRow,
  type LedgerRow,
  type RawRow,
  type RecoveryPolicy,
  type StateRow,
} from './ledger-rows.js';
import { CounterBuffer, queryStats, type LedgerStats } from './ledger-stats.js';
import type { LedgerOptions, OnceRequest, OnceResult, PerformContext, StepOutcome } from './ledger-types.js';

export type { LedgerRow, LedgerStatus, RecoveryPolicy } from './ledger-rows.js';
export type { EffectApproval } from './approvals.js';
export type { LedgerCounts, LedgerStats } from './ledger-stats.js';
export type {
  LedgerOptions,
  OnceOutcome,
  OnceRequest,
  OnceResult,
  PerformContext,
  StepOutcome,
  VerifyResult,
} from './ledger-types.js';

const DAY_MS = 24 * 60 * 60 * 1000;
const MAX_ROUNDS = 5;

interface Claim {
  attempt: number;
  createdAt: Date;
  recovering: boolean;
  /** Set when the claim took over an expired lease. */
  recoveredBy: RecoveryPolicy | undefined;
}

function serialise(result: unknown): { text: string; value: unknown } {
  const text = JSON.stringify({ v: result });
  return { text, value: (JSON.parse(text) as { v?: unknown }).v };
}

function describeError(err: unknown): Record<string, unknown> {
  if (err instanceof OnceflowError) return { code: err.code, message: err.message };
  if (err instanceof Error) return { code: 'TRANSIENT', message: err.message, name: err.name };
  return { code: 'TRANSIENT', message: String(err) };
}

/**
 * The Postgres idempotency ledger (DESIGN "The ledger"): one row per intent key in `idempotency_ledger`.
 * Stats counters that do not change a row are buffered and flushed in batches: call {@link close} (or
 * {@link flush}) before the process exits to keep the last interval's counts. Does not own the pool.
 */
export class Ledger {
  private readonly owner: string;
  private readonly leaseMs: number;
  private readonly retentionMs: number;
  private readonly now: () => Date;
  private readonly counters: CounterBuffer;

  constructor(
    private readonly pool: pg.Pool,
    options: LedgerOptions = {},
  ) {
    this.owner = options.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
    this.leaseMs = options.leaseMs ?? 30_000;
    this.retentionMs = options.retentionMs ?? 30 * DAY_MS;
    this.now = options.now ?? (() => new Date());
    this.counters = new CounterBuffer(pool, options.statsFlushMs ?? 1000);
  }

  /**
   * Performs an effect at most once per key and records its outcome; every later request with the key
   * gets that outcome without performing. In order:
   * - **new key**: claim it (an `in_progress` row with a lease), call `perform`, store the result;
   *   `executed`. Costs a SELECT, an INSERT and an UPDATE (two commits); `claimFirst` skips the SELECT.
   * - **same key, other fingerprint** (any status): {@link IdempotencyKeyReusedError}, terminal.
   * - **succeeded**: the stored result, `perform` not called; `replayed`. One SELECT.
   * - **succeeded, and its compensation (`key:undo`) succeeded too**: {@link EffectUndoneError},
   *   terminal, carrying the original result: the effect was done and then undone, never "done".
   * - **failed** with a business error: that {@link BusinessError} again, terminal.
   * - **in progress, lease live** (a concurrent duplicate): {@link KeyInUseError}, retryable; the retry
   *   replays the other attempt's outcome once it finishes.
   * - **in progress, lease expired** (the attempt crashed, outcome unknown), by `recovery`:
   *   `resume` performs again with `recovering: true` (the downstream dedups by key); `verify` calls
   *   `verify()` and completes the row with what it found, or performs if nothing was found; `escalate`
   *   marks the row `needs_attention` and throws {@link OutcomeUnknownError}. Outcome `recovered`.
   * - **marked for a person**: {@link OutcomeUnknownError} until someone resolves the row.
   *
   * What `perform` throws decides the row: a {@link BusinessError} is stored and rethrown (replayed
   * on every retry); an {@link OutcomeUnknownError} marks the row for a person and is rethrown; a
   * {@link OnceflowError} with `nothingDone` (the downstream said it did nothing) deletes the claim, so
   * the key is unused again, for any terms, and is rethrown; any other error is transient: the claim is released (the row keeps key and fingerprint) and the error
   * rethrown, so a retry performs again with the same key (after `verify`, under that policy).
   * Results must be JSON-serialisable; what is returned is their JSON round trip on every path.
   */
  async once<T>(req: OnceRequest<T>, perform: (ctx: PerformContext) => Promise<T>): Promise<OnceResult<T>> {
    if (req.recovery === 'verify' && !req.verify) {
      throw new TypeError(`once(${req.operation}): recovery 'verify' needs a verify function`);
    }
    let skipRead = req.claimFirst === true;
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const row = skipRead ? undefined : await this.readState(req.key);
      skipRead = false;
      let claim: Claim | undefined;
      if (!row) {
        claim = await this.claim(req);
      } else {
        const replay = this.answerFromRow<T>(req, row);
        if (replay) return replay;
        claim = await this.takeOver(req, row);
      }
      // A lost race (someone else inserted or took over first): read again and answer from their row.
      if (claim) return this.perform(req, claim, perform);
    }
    throw new KeyInUseError(req.key);
  }

  /**
   * Transactional mode, for effects on our own Postgres tables: the claim, `perform(client)` and the
   * completion run in ONE transaction on one client, so the effect and the row commit together or not
   * at all (exactly once, not just at most once). A concurrent duplicate waits on the key's row lock
   * and then replays. A {@link BusinessError} rolls the effect back and stores the error; any other
   * error rolls back everything, leaving neither effect nor row. Do not mix with {@link once} on one key.
   */
  async onceInTransaction<T>(
    req: Omit<OnceRequest<T>, 'recovery' | 'verify' | 'leaseMs'>,
    perform: (client: pg.PoolClient, ctx: PerformContext) => Promise<T>,
  ): Promise<OnceResult<T>> {
    const existing = req.claimFirst ? undefined : await this.readState(req.key);
    if (existing) return this.answerFromTransactionalRow(req, existing);
    const now = this.now();
    try {
      const executed = await this.performInTransaction(req, now, perform);
      if (executed) return executed;
    } catch (err) {
      if (!(err instanceof BusinessError)) throw err;
      const { rowCount } = await this.pool.query({
        ...SQL.insertFailed,
        values: [
          req.key,
          req.scope,
          req.operation,
          req.fingerprint,
          JSON.stringify(err),
          now,
          this.now(),
          this.expiry(now),
        ],
      });
      if (rowCount === 1) throw err;
    }
    // Another transaction committed the key first: answer from its row.
    const row = await this.readState(req.key);
    if (!row) throw new KeyInUseError(req.key);
    return this.answerFromTransactionalRow(req, row);
  }

  /** BEGIN, claim, perform, complete, COMMIT; undefined when another transaction holds the key. */
  private async performInTransaction<T>(
    req: Omit<OnceRequest<T>, 'recovery' | 'verify' | 'leaseMs'>,
    now: Date,
    perform: (client: pg.PoolClient, ctx: PerformContext) => Promise<T>,
  ): Promise<OnceResult<T> | undefined> {
    const client = await this.pool.connect();
    let broken = false;
    try {
      await client.query('BEGIN');
      try {
        // Blocks while a concurrent transaction holds an uncommitted claim of the key, then skips.
        const claimed = await client.query({ ...SQL.claim, values: this.claimValues(req, now, 0) });
        if (claimed.rowCount === 0) {
          await client.query('ROLLBACK');
          return undefined;
        }
        const stored = serialise(await perform(client, { key: req.key, attempt: 1, recovering: false }));
        await client.query({ ...SQL.succeed, values: [req.key, stored.text, this.now(), 'perform'] });
        await client.query('COMMIT');
        return {
          outcome: 'executed',
          result: stored.value as T,
          key: req.key,
          attempts: 1,
          firstExecutedAt: now,
        };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => (broken = true));
        throw err;
      }
    } finally {
      client.release(broken);
    }
  }

  /** The row of `key`, if the ledger holds one. */
  async get(key: string): Promise<LedgerRow | undefined> {
    const row = await this.read(key);
    return row && toLedgerRow(row);
  }

  /**
   * The recorded outcome of the step `stepKey`, as a compensation must read it before undoing:
   * - `performed`: it succeeded, with its stored result;
   * - `not_performed`: it was never claimed (every effect is claimed before the downstream is called)
   *   or it ended in a stored business error (a declined card): there is nothing to undo downstream;
   * - `unknown`: an attempt was claimed and stopped without an outcome (crashed, released after a
   *   transient error, or marked for a person): the compensation must ask the downstream.
   * Throws {@link KeyInUseError} (retryable) while an attempt of the step holds a live lease: undoing
   * now could miss an effect that is still being performed.
   */
  async stepOutcome(stepKey: string): Promise<StepOutcome> {
    const row = await this.readState(stepKey);
    if (!row) return { status: 'not_performed', reason: 'never attempted' };
    if (row.status === 'succeeded') return { status: 'performed', result: row.response?.v };
    if (row.status === 'failed') {
      return { status: 'not_performed', reason: `ended in ${row.error?.code ?? 'a business error'}` };
    }
    if (
      !row.needs_attention &&
      row.lease_expires_at &&
      row.lease_expires_at.getTime() > this.now().getTime()
    ) {
      throw new KeyInUseError(stepKey, row.lease_expires_at);
    }
    // Only a released claim's error is the last attempt's: a take-over keeps the row's old error, and
    // an attempt that crashed after it left its lease set.
    const lastError = row.lease_expires_at === null ? row.error?.code : undefined;
    return lastError ? { status: 'unknown', lastError } : { status: 'unknown' };
  }

  /**
   * Which of `keys` were done and then undone (their compensation key succeeded), with when. One
   * query; keys the ledger does not hold are simply absent. Used after a reset, whose run inherits
   * step results from history that a replaced run may since have compensated.
   */
  async undone(keys: readonly string[]): Promise<{ key: string; undoneAt: Date }[]> {
    if (keys.length === 0) return [];
    const { rows } = await this.pool.query<{ key: string; completed_at: Date }>({
      ...SQL.undone,
      values: [keys.map(compensationKey)],
    });
    const byUndoKey = new Map(rows.map((r) => [r.key, r.completed_at]));
    return keys.flatMap((key) => {
      const undoneAt = byUndoKey.get(compensationKey(key));
      return undoneAt ? [{ key, undoneAt }] : [];
    });
  }

  /** Rows marked for a person (outcome unknown), oldest first. */
  async needingAttention(options: { scope?: string; limit?: number } = {}): Promise<LedgerRow[]> {
    const { rows } = await this.pool.query<RawRow>(
      `SELECT * FROM idempotency_ledger WHERE needs_attention AND ($1::text IS NULL OR scope = $1)
        ORDER BY created_at LIMIT $2`,
      [options.scope ?? null, options.limit ?? 100],
    );
    return rows.map(toLedgerRow);
  }

  /**
   * Deletes rows past their `expires_at` (first claim + retention) in batches of `batchSize` (default
   * 1000), skipping rows locked by a running attempt and rows marked for a person. Returns how many.
   */
  async prune(options: { batchSize?: number } = {}): Promise<number> {
    const total = await deleteInBatches(
      this.pool,
      `DELETE FROM idempotency_ledger WHERE key IN (
         SELECT key FROM idempotency_ledger WHERE expires_at < $1 AND NOT needs_attention
          ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)`,
      [this.now()],
      options.batchSize ?? 1000,
    );
    await pruneApprovals(this.pool, this.now());
    return total;
  }

  /** Records that a person approved the effect `approval.key` with these terms (idempotent). */
  recordApproval(approval: EffectApproval): Promise<void> {
    return recordApproval(this.pool, approval);
  }

  /** The approvals recorded for one task, oldest first: who approved which effect, with which terms. */
  approvals(scope: string): Promise<EffectApproval[]> {
    return approvalsOf(this.pool, scope);
  }

  /**
   * Counts over the retained rows, for a scope or all of them (then with `byScope`, the `top` most
   * active scopes, default 20). Flushes this ledger's buffered counters first; other processes'
   * counters show up after their flush interval.
   */
  async stats(filter: { scope?: string; top?: number } = {}): Promise<LedgerStats> {
    await this.counters.flush();
    return queryStats(this.pool, filter);
  }

  /** Writes buffered replay/conflict/in-flight counters now. */
  flush(): Promise<void> {
    return this.counters.flush();
  }

  /** Flushes counters and stops the flush timer. Does not end the pool. */
  close(): Promise<void> {
    return this.counters.close();
  }

  private async read(key: string): Promise<RawRow | undefined> {
    const { rows } = await this.pool.query<RawRow>({ ...SQL.read, values: [key] });
    return rows[0];
  }

  /** The columns that decide a request: fewer bytes to send and parse on the replay path. */
  private async readState(key: string): Promise<StateRow | undefined> {
    const { rows } = await this.pool.query<StateRow>({
      ...SQL.readState,
      values: [key, compensationKey(key)],
    });
    return rows[0];
  }

  private claimValues(
    req: { key: string; scope: string; operation: string; fingerprint: string; undo?: unknown },
    now: Date,
    leaseMs: number,
  ) {
    return [
      req.key,
      req.scope,
      req.operation,
      req.fingerprint,
      leaseMs > 0 ? this.owner : null,
      leaseMs > 0 ? new Date(now.getTime() + leaseMs) : null,
      now,
      this.expiry(now),
      req.undo === undefined ? null : JSON.stringify(req.undo),
    ];
  }

  /**
   * Extends the leases of this ledger's live claims on `keys` to `leaseMs` from now (an attempt that is
   * still alive says so: the activity's heartbeats call it). Claims another owner took over, and rows
   * no longer in progress, are left alone. Returns how many leases were renewed.
   */
  async renewLeases(keys: readonly string[], leaseMs: number): Promise<number> {
    const { rowCount } = await this.pool.query({
      ...SQL.renewLeases,
      values: [[...keys], this.owner, new Date(this.now().getTime() + leaseMs)],
    });
    return rowCount ?? 0;
  }

  /**
   * The effects of `scope` stored with an undo record whose keys are not in `known`: done (or outcome
   * unknown) and not undone, oldest first. A saga asks before it compensates or completes, with the keys
   * of its own steps, to find effects a failed workflow task performed but its history never recorded.
   */
  async unrecorded(scope: string, known: readonly string[]): Promise<{ key: string; undo: unknown }[]> {
    const { rows } = await this.pool.query<{ key: string; undo: unknown }>({
      ...SQL.unrecorded,
      values: [scope, [...known]],
    });
    return rows;
  }

  private expiry(createdAt: Date): Date {
    return new Date(createdAt.getTime() + this.retentionMs);
  }

  private async claim<T>(req: OnceRequest<T>): Promise<Claim | undefined> {
    const now = this.now();
    const { rowCount } = await this.pool.query({
      ...SQL.claim,
      values: this.claimValues(req, now, req.leaseMs ?? this.leaseMs),
    });
    if (rowCount === 0) return undefined;
    return { attempt: 1, createdAt: now, recovering: false, recoveredBy: undefined };
  }

  /** Answers a request from a row that settles it, or returns undefined when the row may be taken over. */
  private answerFromRow<T>(req: OnceRequest<T>, row: StateRow): OnceResult<T> | undefined {
    if (row.fingerprint !== req.fingerprint) {
      this.counters.add(req.key, 'conflicts');
      throw new IdempotencyKeyReusedError(req.key, row.fingerprint, req.fingerprint);
    }
    if (row.status === 'succeeded') {
      this.counters.add(req.key, 'replays');
      if (row.undone_at) throw new EffectUndoneError(req.key, row.response?.v, row.undone_at);
      return {
        outcome: 'replayed',
        result: row.response?.v as T,
        key: req.key,
        attempts: row.attempts,
        firstExecutedAt: row.created_at,
      };
    }
    if (row.status === 'failed') {
      this.counters.add(req.key, 'replays');
      throw BusinessError.fromJSON(row.error ?? { code: 'FAILED', message: 'failed' });
    }
    if (row.needs_attention) {
      throw new OutcomeUnknownError(req.key, row.error?.message ?? 'an earlier attempt was escalated');
    }
    if (row.lease_expires_at && row.lease_expires_at.getTime() > this.now().getTime()) {
      this.counters.add(req.key, 'inFlight');
      throw new KeyInUseError(req.key, row.lease_expires_at);
    }
    return undefined;
  }

  private answerFromTransactionalRow<T>(req: Omit<OnceRequest<T>, 'recovery'>, row: StateRow): OnceResult<T> {
    const replay = this.answerFromRow({ ...req, recovery: 'escalate' }, row);
    if (replay) return replay;
    // An in_progress row is never committed in transactional mode: another mode holds this key.
    throw new KeyInUseError(req.key, row.lease_expires_at ?? undefined);
  }

  /** Takes over a released (lease NULL) or crashed (lease expired) claim, applying the recovery policy. */
  private async takeOver<T>(req: OnceRequest<T>, row: StateRow): Promise<Claim | undefined> {
    const crashed = row.lease_expires_at !== null;
    if (crashed && req.recovery === 'escalate') {
      const reason = `an earlier attempt (${row.lease_owner ?? 'unknown owner'}) stopped without recording an outcome`;
      const { rowCount } = await this.pool.query({
        ...SQL.escalateExpired,
        values: [
          req.key,
          JSON.stringify({ code: 'OUTCOME_UNKNOWN', message: reason }),
          this.now(),
          row.lease_expires_at,
        ],
      });
      // The "crashed" attempt was only slow and has just finished, or another request escalated first.
      if (rowCount === 0) return undefined;
      throw new OutcomeUnknownError(req.key, reason);
    }
    const now = this.now();
    const recoveredBy = crashed ? req.recovery : undefined;
    const { rows } = await this.pool.query<{ attempts: number; created_at: Date }>({
      ...SQL.takeOver,
      values: [
        req.key,
        req.fingerprint,
        this.owner,
        new Date(now.getTime() + (req.leaseMs ?? this.leaseMs)),
        recoveredBy ?? null,
        now,
        row.lease_expires_at,
      ],
    });
    const taken = rows[0];
    if (!taken) return undefined;
    return { attempt: taken.attempts, createdAt: taken.created_at, recovering: true, recoveredBy };
  }

  private async perform<T>(
    req: OnceRequest<T>,
    claim: Claim,
    perform: (ctx: PerformContext) => Promise<T>,
  ): Promise<OnceResult<T>> {
    let completedBy: 'perform' | 'verify' = 'perform';
    let result: T;
    try {
      const found =
        claim.recovering && req.verify && req.recovery === 'verify' ? await req.verify() : undefined;
      if (found?.found) {
        completedBy = 'verify';
        result = found.result;
      } else {
        result = await perform({ key: req.key, attempt: claim.attempt, recovering: claim.recovering });
      }
    } catch (err) {
      await this.settleFailure(req, claim, err);
      throw err;
    }
    // From here the effect has happened. If recording it fails, the claim is left to expire rather than
    // released, so the next attempt goes through the recovery policy instead of performing blindly.
    let stored: { text: string; value: unknown };
    try {
      stored = serialise(result);
    } catch (err) {
      const reason = `the result of ${req.operation} is not JSON-serialisable: ${String(err)}`;
      await this.pool.query({
        ...SQL.escalate,
        values: [req.key, JSON.stringify({ code: 'RESULT_NOT_SERIALISABLE', message: reason })],
      });
      throw new TypeError(reason, { cause: err });
    }
    await this.pool.query({ ...SQL.succeed, values: [req.key, stored.text, this.now(), completedBy] });
    return {
      outcome: claim.recoveredBy || completedBy === 'verify' ? 'recovered' : 'executed',
      result: stored.value as T,
      key: req.key,
      attempts: claim.attempt,
      firstExecutedAt: claim.createdAt,
    };
  }

  private async settleFailure<T>(req: OnceRequest<T>, claim: Claim, err: unknown): Promise<void> {
    if (err instanceof BusinessError) {
      await this.pool.query({ ...SQL.fail, values: [req.key, JSON.stringify(err), this.now()] });
    } else if (err instanceof OnceflowError && err.nothingDone) {
      await this.pool
        .query({ ...SQL.forget, values: [req.key, this.owner, claim.attempt] })
        .catch(() => undefined); // as a release: an unforgotten claim expires and is recovered by policy
    } else if (err instanceof OutcomeUnknownError) {
      await this.pool.query({
        ...SQL.escalate,
        values: [req.key, JSON.stringify(describeError(err))],
      });
    } else {
      await this.pool
        .query({
          ...SQL.release,
          values: [req.key, this.owner, claim.attempt, JSON.stringify(describeError(err))],
        })
        // The original error matters more; an unreleased claim expires and is recovered by policy.
        .catch(() => undefined);
    }
  }
}
