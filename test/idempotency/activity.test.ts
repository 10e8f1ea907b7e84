import { ApplicationFailure } from '@temporalio/common';
import { MockActivityEnvironment } from '@temporalio/testing';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardedActivity, runOnce } from '../../src/idempotency/activity.js';
import { BusinessError, KeyInUseError } from '../../src/idempotency/errors.js';
import { toApplicationFailure } from '../../src/idempotency/failure.js';
import { deriveIntent } from '../../src/idempotency/keys.js';
import { Ledger } from '../../src/idempotency/ledger.js';
import { freshIntent, testPool } from './helpers.js';

const chargeTool = {
  tool: 'charge_card',
  identityFields: ['orderId'],
  stableFields: ['amount', 'currency'],
  recovery: 'resume',
} as const;

const noop = () => undefined;
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

/** Runs functions as activities of a workflow with this ID. */
function activityEnv(workflowId: string) {
  const env = new MockActivityEnvironment(
    { workflowExecution: { workflowId, runId: 'run-1' }, startToCloseTimeoutMs: 10_000 },
    { logger: quiet },
  );
  return { run: <R>(fn: () => Promise<R>) => env.run<[], R, () => Promise<R>>(fn) };
}

describe('runOnce inside an activity', () => {
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

  it('keys the effect by the workflow ID and hands the key to the downstream', async () => {
    const { scope } = freshIntent();
    const input = { orderId: 'o-1', amount: 4200, currency: 'EUR', note: 'thanks' };
    const sent: string[] = [];
    let leaseMs: number | undefined;
    const charge = guardedActivity({ ledger, ...chargeTool }, async (key, _ctx, i: typeof input) => {
      sent.push(key);
      const claim = await ledger.get(key);
      leaseMs = claim!.leaseExpiresAt!.getTime() - claim!.createdAt.getTime();
      return { chargedCents: i.amount };
    });
    const env = activityEnv(scope);
    const first = await env.run(() => charge(input));
    const again = await env.run(() => charge({ ...input, note: 'reworded by the model' }));
    const expected = deriveIntent({ scope, input, ...chargeTool });
    expect(first).toMatchObject({ outcome: 'executed', key: expected.key, result: { chargedCents: 4200 } });
    expect(again.outcome).toBe('replayed');
    expect(sent).toEqual([expected.key]);
    const row = await ledger.get(expected.key);
    expect(row).toMatchObject({ scope, operation: 'charge_card', fingerprint: expected.fingerprint });
    // The claim outlives the attempt's start-to-close timeout (10 s), plus a margin.
    expect(leaseMs).toBe(15_000);
  });

  it('turns a changed amount under the same order into a non-retryable IDEMPOTENCY_KEY_REUSED failure', async () => {
    const { scope } = freshIntent();
    const env = activityEnv(scope);
    const perform = () => Promise.resolve('ok');
    await env.run(() => runOnce({ ledger, ...chargeTool, input: { orderId: 'o-1', amount: 100 } }, perform));
    const err = await env
      .run(() => runOnce({ ledger, ...chargeTool, input: { orderId: 'o-1', amount: 999 } }, perform))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ApplicationFailure);
    expect(err).toMatchObject({ type: 'IDEMPOTENCY_KEY_REUSED', nonRetryable: true });
    const [details] = (err as ApplicationFailure).details ?? [];
    expect((details as { storedFingerprint: string }).storedFingerprint).toMatch(/^fp_/);
  });

  it('turns a business error into a non-retryable failure typed by its code, replayed on retry', async () => {
    const { scope } = freshIntent();
    const env = activityEnv(scope);
    let calls = 0;
    const decline = () => {
      calls++;
      return Promise.reject(
        new BusinessError('CARD_DECLINED', 'do not honor', { declineCode: 'do_not_honor' }),
      );
    };
    for (let i = 0; i < 2; i++) {
      const err = await env
        .run(() => runOnce({ ledger, ...chargeTool, input: { orderId: 'o-9', amount: 1 } }, decline))
        .catch((e: unknown) => e);
      expect(err).toMatchObject({
        type: 'CARD_DECLINED',
        nonRetryable: true,
        details: [{ declineCode: 'do_not_honor' }],
      });
    }
    expect(calls).toBe(1);
  });

  it('uses an explicit scope when given, and passes verify the key', async () => {
    const { scope } = freshIntent();
    const input = { orderId: 'o-2', amount: 5 };
    const done = await activityEnv('ignored').run(() =>
      runOnce(
        {
          ledger,
          ...chargeTool,
          recovery: 'verify',
          verify: () => Promise.resolve({ found: false }),
          scope,
          input,
        },
        (key) => Promise.resolve(key),
      ),
    );
    expect(done.result).toBe(deriveIntent({ scope, input, ...chargeTool }).key);
  });
});

describe('toApplicationFailure', () => {
  it('marks retryable onceflow errors retryable and leaves other errors unchanged', () => {
    const inUse = toApplicationFailure(new KeyInUseError('ik_x'));
    expect(inUse).toBeInstanceOf(ApplicationFailure);
    expect(inUse).toMatchObject({ type: 'KEY_IN_USE', nonRetryable: false });
    const plain = new Error('boom');
    expect(toApplicationFailure(plain)).toBe(plain);
  });
});
