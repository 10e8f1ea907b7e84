import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { stepKeyOf } from '../idempotency/keys.js';
import { attemptLeaseMs } from '../idempotency/lease.js';
import { toApplicationFailure } from '../idempotency/failure.js';
import { countEffect } from '../metrics.js';
import type { Ledger, PerformContext, StepOutcome, VerifyResult } from '../idempotency/ledger.js';
import type { EffectResult, Intent } from '../tools/effects.js';
import { currentLedger, heldClaims } from './effect-scope.js';

/** Options of {@link effect}. */
export interface EffectOptions<T> {
  /**
   * Asks the downstream whether the effect with this key happened; used when an earlier attempt
   * crashed and the tool's recovery is `verify`. Without it, `verify` escalates instead.
   */
  verify?: (key: string) => Promise<VerifyResult<T>>;
  /** The ledger; default the one the onceflow worker plugin gives the running activity. */
  ledger?: Ledger;
  /** Name in the ledger when the intent has none (inputs from before 0.2). Default `'effect'`. */
  operation?: string;
}

/** What `perform` receives inside a transaction: the ledger's client, for writes to your own tables. */
export interface TransactionContext extends PerformContext {
  db: pg.PoolClient;
}

function currentLeaseMs(): number | undefined {
  try {
    return attemptLeaseMs(Context.current().info);
  } catch {
    return undefined; // not inside an activity (direct calls in tests): the ledger's default applies
  }
}

/**
 * True on an activity's first attempt, whose key is most likely new: the ledger then claims before it
 * reads (two statements for a first execution instead of three; a replay costs two instead of one).
 * The outcome is the same either way.
 */
function firstAttempt(): boolean {
  try {
    return Context.current().info.attempt === 1;
  } catch {
    return false; // not inside an activity: read first
  }
}

function ledgerOf(options: { ledger?: Ledger }): Ledger {
  const ledger = options.ledger ?? currentLedger();
  if (!ledger)
    throw new TypeError(
      'effect(): no ledger. Register the onceflow worker plugin, or pass { ledger } when calling it outside a worker.',
    );
  return ledger;
}

/**
 * The one door for a side effect, called inside your activity with the {@link Intent} the workflow
 * derived (the tool's identity fields, the workflow ID). `perform` receives the key: hand it to the
 * downstream (`Idempotency-Key`, SMTP `Message-ID`, a unique reservation reference) so that a resumed
 * attempt is deduplicated there too.
 *
 * - First time: the key is claimed in the ledger, `perform` runs, its result is stored → `executed`.
 * - Same key, same terms, done: the stored result (or stored business error) is returned, `perform`
 *   is not called → `replayed`.
 * - Same key, other terms (fingerprint): `IDEMPOTENCY_KEY_REUSED`, non-retryable, told to the model.
 * - Another attempt holds the key (a concurrent duplicate): `KEY_IN_USE`, retryable; the retry replays.
 * - An earlier attempt crashed mid-effect: the tool's declared recovery decides — `resume` performs
 *   again with the same key (→ `recovered`), `verify` asks `options.verify`, `escalate` fails with
 *   `OUTCOME_UNKNOWN` and marks the key for a person.
 * - The effect was done and later undone by its compensation: `EFFECT_UNDONE`, never a replay.
 * - `perform` throws a `BusinessError` (a declined card): stored and replayed, told to the model.
 *   Anything else releases the claim and is rethrown for Temporal's retry policy.
 *
 * With `{ transaction: true }`, `perform` gets `ctx.db`, a client inside the ledger's transaction:
 * writes to your own tables commit with the ledger row, exactly once rather than at most once.
 */
export function effect<T>(
  intent: Intent,
  perform: (ctx: PerformContext) => Promise<T>,
  options?: EffectOptions<T> & { transaction?: false },
): Promise<EffectResult<T>>;
export function effect<T>(
  intent: Intent,
  perform: (ctx: TransactionContext) => Promise<T>,
  options: Omit<EffectOptions<T>, 'verify'> & { transaction: true },
): Promise<EffectResult<T>>;
export async function effect<T>(
  intent: Intent,
  perform: ((ctx: PerformContext) => Promise<T>) | ((ctx: TransactionContext) => Promise<T>),
  options: EffectOptions<T> & { transaction?: boolean } = {},
): Promise<EffectResult<T>> {
  const operation = intent.operation ?? options.operation ?? 'effect';
  try {
    const ledger = ledgerOf(options);
    if (intent.approval) {
      // Before the claim, so no effect exists without the approval that allowed it on record.
      const { reason, by, note, at } = intent.approval;
      await ledger.recordApproval({
        key: intent.key,
        fingerprint: intent.fingerprint,
        scope: intent.scope,
        reason,
        approvedBy: by ?? null,
        note: note ?? null,
        approvedAt: new Date(at),
      });
    }
    const request = {
      key: intent.key,
      scope: intent.scope,
      operation,
      fingerprint: intent.fingerprint,
      claimFirst: firstAttempt(),
      ...(intent.undo ? { undo: intent.undo } : {}),
    };
    const claims = heldClaims();
    if (!options.transaction) claims.add(intent.key); // its heartbeats renew the claim's lease
    const done = await (
      options.transaction
        ? ledger.onceInTransaction(request, (db, ctx) => perform({ ...ctx, db }))
        : ledger.once(
            { ...request, ...recoveryOf(intent, options), ...leaseOf() },
            perform as (ctx: PerformContext) => Promise<T>,
          )
    ).finally(() => claims.delete(intent.key));
    countEffect(operation, done.outcome);
    return { outcome: done.outcome, key: intent.key, result: done.result };
  } catch (err) {
    countEffect(operation, (err as { code?: string }).code ?? 'error');
    throw toApplicationFailure(err);
  }
}

function leaseOf(): { leaseMs?: number } {
  const leaseMs = currentLeaseMs();
  return leaseMs === undefined ? {} : { leaseMs };
}

/** The declared recovery; `verify` without a way to verify escalates rather than guessing. */
function recoveryOf<T>(intent: Intent, options: EffectOptions<T>) {
  const verify = options.verify;
  const declared = intent.recovery ?? (verify ? 'verify' : 'resume');
  if (declared !== 'verify') return { recovery: declared };
  return verify
    ? { recovery: declared, verify: () => verify(intent.key) }
    : { recovery: 'escalate' as const };
}

/** The step a compensation undoes, when there may be something to undo: performed, or outcome unknown. */
export type StepToUndo = Exclude<StepOutcome, { status: 'not_performed' }>;

/**
 * Wraps a compensation's `perform` so that it first reads the recorded outcome of the step it undoes
 * (the step whose key `undoIntent` is the compensation key of): a step that never took effect (never
 * claimed, or a stored business error such as a declined card) is answered with `nothing(reason)` and
 * the downstream is not called; a performed step is undone from its stored result (`step.result`); an
 * unknown one (crashed mid-effect) leaves the compensation to ask the downstream. Compose it with
 * {@link effect}, so the answer is recorded under the compensation's own key.
 */
export function undoing<T, A extends unknown[]>(
  undoIntent: Intent,
  nothing: (reason: string) => T,
  perform: (step: StepToUndo, ...args: A) => Promise<T>,
  options: { ledger?: Ledger } = {},
): (...args: A) => Promise<T> {
  return async (...args) => {
    const step = await ledgerOf(options).stepOutcome(stepKeyOf(undoIntent.key));
    if (step.status === 'not_performed') return nothing(step.reason);
    return perform(step, ...args);
  };
}
