import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { attemptLeaseMs } from '../idempotency/activity.js';
import { toApplicationFailure } from '../idempotency/failure.js';
import { countEffect } from '../metrics.js';
import type { Ledger, OnceRequest, PerformContext, StepOutcome } from '../idempotency/ledger.js';
import type { EffectResult, Intent } from '../tools/effects.js';

function currentLeaseMs(): number | undefined {
  try {
    return attemptLeaseMs(Context.current().info);
  } catch {
    return undefined; // not inside an activity (direct calls in tests): the ledger's default applies
  }
}

/**
 * Runs one side effect through the ledger under the intent the workflow derived, and converts
 * onceflow errors to Temporal failures once, here, at the activity boundary.
 * Retry: a transient error releases the claim and Temporal retries with the same key.
 * Crash: the next attempt finds the expired lease and applies `recovery`.
 * Conflict: the same key with another fingerprint fails non-retryably.
 */
export async function runEffect<T>(
  ledger: Ledger,
  operation: string,
  intent: Intent,
  options: Pick<OnceRequest<T>, 'recovery' | 'verify'>,
  perform: (ctx: PerformContext) => Promise<T>,
): Promise<EffectResult<T>> {
  const leaseMs = currentLeaseMs();
  try {
    const done = await ledger.once(
      {
        key: intent.key,
        scope: intent.scope,
        operation,
        fingerprint: intent.fingerprint,
        ...options,
        ...(leaseMs !== undefined ? { leaseMs } : {}),
      },
      perform,
    );
    countEffect(operation, done.outcome);
    return { outcome: done.outcome, key: intent.key, result: done.result };
  } catch (err) {
    countEffect(operation, (err as { code?: string }).code ?? 'error');
    throw toApplicationFailure(err);
  }
}

/** Like {@link runEffect} for writes to our own tables: claim, write and completion in one transaction. */
export async function runTransactionalEffect<T>(
  ledger: Ledger,
  operation: string,
  intent: Intent,
  perform: (client: pg.PoolClient, ctx: PerformContext) => Promise<T>,
): Promise<EffectResult<T>> {
  try {
    const done = await ledger.onceInTransaction(
      { key: intent.key, scope: intent.scope, operation, fingerprint: intent.fingerprint },
      perform,
    );
    countEffect(operation, done.outcome);
    return { outcome: done.outcome, key: intent.key, result: done.result };
  } catch (err) {
    countEffect(operation, (err as { code?: string }).code ?? 'error');
    throw toApplicationFailure(err);
  }
}

/** The step a compensation undoes, when there may be something to undo: performed, or outcome unknown. */
export type StepToUndo = Exclude<StepOutcome, { status: 'not_performed' }>;

/**
 * Wraps a compensation's `perform` so that it first reads the recorded outcome of the step it undoes
 * (`Ledger.stepOutcome`): a step that never took effect (never claimed, or a stored business error such
 * as a declined card) is answered with `nothing(reason)` and the downstream is not called; a performed
 * step is undone from its stored result; an unknown one leaves the compensation to ask the downstream.
 * Compose it with {@link runEffect} or {@link runTransactionalEffect}, so the answer is recorded under
 * the compensation's own key like any other effect.
 */
export function undoing<T, A extends unknown[]>(
  ledger: Ledger,
  stepKey: string,
  nothing: (reason: string) => T,
  perform: (step: StepToUndo, ...args: A) => Promise<T>,
): (...args: A) => Promise<T> {
  return async (...args) => {
    const step = await ledger.stepOutcome(stepKey);
    if (step.status === 'not_performed') return nothing(step.reason);
    return perform(step, ...args);
  };
}
