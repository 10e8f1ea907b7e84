import { Context } from '@temporalio/activity';
import type pg from 'pg';
import { attemptLeaseMs } from '../idempotency/activity.js';
import { toApplicationFailure } from '../idempotency/failure.js';
import { countEffect } from '../metrics.js';
import type { Ledger, OnceRequest, PerformContext } from '../idempotency/ledger.js';
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
