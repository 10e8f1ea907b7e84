import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { effect } from '../../src/activities/effect.js';
import { withLedger } from '../../src/activities/effect-scope.js';
import { BusinessError, KeyInUseError } from '../../src/idempotency/errors.js';
import { toApplicationFailure } from '../../src/idempotency/failure.js';
import { deriveIntent } from '../../src/idempotency/keys.js';
import { Ledger } from '../../src/idempotency/ledger.js';
import { TOLD_TO_MODEL } from '../../src/idempotency/told-to-model.js';
import type { Intent } from '../../src/tools/effects.js';
import { freshIntent, testPool } from '../idempotency/helpers.js';

const noop = () => undefined;
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

/** Runs functions as activity attempts of a workflow with this ID (10 s start-to-close). */
function activityEnv(workflowId: string) {
  const env = new MockActivityEnvironment(
    { workflowExecution: { workflowId, runId: 'run-1' }, startToCloseTimeoutMs: 10_000 },
    { logger: quiet },
  );
  return { run: <R>(fn: () => Promise<R>) => env.run<[], R, () => Promise<R>>(fn) };
}

/** The intent a workflow derives for a charge of `input` (what `intentFor` builds). */
function chargeIntent(
  scope: string,
  input: Record<string, unknown>,
  recovery: Intent['recovery'] = 'resume',
) {
  const derived = deriveIntent({
    scope,
    tool: 'charge_card',
    input,
    identityFields: ['orderId'],
    stableFields: ['amount'],
  });
  return { scope, ...derived, operation: 'charge_card', recovery } satisfies Intent;
}

describe('effect(): the one door for a side effect inside an activity', () => {
  let pool: pg.Pool;
  let ledger: Ledger;
  beforeAll(() => {
    pool = testPool();
    ledger = new Ledger(pool);
  });
  afterAll(async () => {
    await ledger.close();
    await pool.end();
  });

  it('uses the ledger the worker scope gives the activity, hands perform the key and replays the second call', async () => {
    const { scope } = freshIntent();
    const intent = chargeIntent(scope, { orderId: 'o-1', amount: 4200 });
    const sent: string[] = [];
    let leaseMs: number | undefined;
    const charge = () =>
      effect(intent, async ({ key }) => {
        sent.push(key);
        const claim = await ledger.get(key);
        leaseMs = claim!.leaseExpiresAt!.getTime() - claim!.createdAt.getTime();
        return { chargedCents: 4200 };
      });
    const env = activityEnv(scope);
    const first = await env.run(() => withLedger(ledger, charge));
    const again = await env.run(() => withLedger(ledger, charge));
    expect(first).toMatchObject({ outcome: 'executed', key: intent.key, result: { chargedCents: 4200 } });
    expect(again.outcome).toBe('replayed');
    expect(sent).toEqual([intent.key]);
    // The operation is the one the tool declared, carried by the intent.
    expect(await ledger.get(intent.key)).toMatchObject({ scope, operation: 'charge_card' });
    // The claim outlives the attempt's start-to-close timeout (10 s), plus a margin.
    expect(leaseMs).toBe(15_000);
  });

  it('fails with a clear error when no ledger is in scope', async () => {
    const intent = chargeIntent(freshIntent().scope, { orderId: 'o-1', amount: 1 });
    await expect(effect(intent, () => Promise.resolve(1))).rejects.toThrow(/no ledger/);
  });

  it('turns other terms under the same key into a non-retryable IDEMPOTENCY_KEY_REUSED failure the model is told', async () => {
    const { scope } = freshIntent();
    const env = activityEnv(scope);
    const perform = () => Promise.resolve('ok');
    await env.run(() => effect(chargeIntent(scope, { orderId: 'o-1', amount: 100 }), perform, { ledger }));
    const err = await env
      .run(() => effect(chargeIntent(scope, { orderId: 'o-1', amount: 999 }), perform, { ledger }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'IDEMPOTENCY_KEY_REUSED', nonRetryable: true });
    const [details, marker] = (err as ApplicationFailure).details ?? [];
    expect((details as { storedFingerprint: string }).storedFingerprint).toMatch(/^fp_/);
    expect(marker).toEqual(TOLD_TO_MODEL);
  });

  it('stores a business error and replays it on retry, marked for the model', async () => {
    const { scope } = freshIntent();
    const env = activityEnv(scope);
    let calls = 0;
    const decline = () => {
      calls++;
      return Promise.reject(
        new BusinessError('CARD_DECLINED', 'do not honor', { declineCode: 'do_not_honor' }),
      );
    };
    const intent = chargeIntent(scope, { orderId: 'o-9', amount: 1 });
    for (let i = 0; i < 2; i++) {
      const err = await env.run(() => effect(intent, decline, { ledger })).catch((e: unknown) => e);
      expect(err).toMatchObject({
        type: 'CARD_DECLINED',
        nonRetryable: true,
        details: [{ declineCode: 'do_not_honor' }, TOLD_TO_MODEL],
      });
    }
    expect(calls).toBe(1);
  });

  it('writes to your own tables in the ledger transaction: a failed write leaves no claim behind', async () => {
    const { scope } = freshIntent();
    const intent = chargeIntent(scope, { orderId: 'o-tx', amount: 1 });
    await expect(
      effect(
        intent,
        async ({ db }) => {
          await db.query('SELECT 1');
          throw new Error('write failed');
        },
        { ledger, transaction: true },
      ),
    ).rejects.toThrow('write failed');
    expect(await ledger.get(intent.key)).toBeUndefined();
    const done = await effect(
      intent,
      async ({ db }) => (await db.query<{ n: number }>('SELECT 2 AS n')).rows[0]!.n,
      {
        ledger,
        transaction: true,
      },
    );
    expect(done).toMatchObject({ outcome: 'executed', result: 2 });
  });
});

describe('toApplicationFailure', () => {
  it('marks retryable onceflow errors retryable, not told to the model, and leaves other errors unchanged', () => {
    const inUse = toApplicationFailure(new KeyInUseError('ik_x'));
    expect(inUse).toBeInstanceOf(ApplicationFailure);
    expect(inUse).toMatchObject({ type: 'KEY_IN_USE', nonRetryable: false });
    expect((inUse as ApplicationFailure).details).not.toContainEqual(TOLD_TO_MODEL);
    const plain = new Error('boom');
    expect(toApplicationFailure(plain)).toBe(plain);
  });
});
