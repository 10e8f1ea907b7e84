import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessError, EffectUndoneError, KeyInUseError } from '../../src/idempotency/errors.js';
import { compensationKey, fingerprint, stepKeyOf } from '../../src/idempotency/keys.js';
import { Ledger } from '../../src/idempotency/ledger.js';
import { claimed, countingPerform, freshIntent, hangs, testPool } from './helpers.js';

describe('Ledger: effects done and then undone', () => {
  let pool: pg.Pool;
  let ledger: Ledger;
  beforeAll(() => {
    pool = testPool(8);
    ledger = new Ledger(pool);
  });
  afterAll(async () => {
    await ledger.close();
    await pool.end();
  });

  /** Performs the step, then its compensation under `key:undo`, as a saga would. */
  async function doThenUndo(intent: ReturnType<typeof freshIntent>) {
    await ledger.once(intent.request(), () => Promise.resolve({ receipt: 'r-1' }));
    await ledger.once(
      { ...intent.request(), key: compensationKey(intent.key), fingerprint: fingerprint({ undo: true }) },
      () => Promise.resolve({ refunded: true }),
    );
  }

  it('answers a repeat of an undone effect with EFFECT_UNDONE and the original result, never as done', async () => {
    const intent = freshIntent();
    await doThenUndo(intent);
    const { calls, perform } = countingPerform();
    const error = await ledger.once(intent.request(), perform).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(EffectUndoneError);
    expect(error).toMatchObject({ code: 'EFFECT_UNDONE', retryable: false, result: { receipt: 'r-1' } });
    expect(calls).toHaveLength(0);
  });

  it('answers the same in transactional mode', async () => {
    const intent = freshIntent('create_row');
    await ledger.onceInTransaction(intent.request(), () => Promise.resolve({ row: 1 }));
    await ledger.onceInTransaction(
      { ...intent.request(), key: compensationKey(intent.key), fingerprint: fingerprint({ undo: true }) },
      () => Promise.resolve({ undone: true }),
    );
    const error = await ledger
      .onceInTransaction(intent.request(), () => Promise.resolve({ row: 2 }))
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(EffectUndoneError);
  });

  it('still replays an effect whose compensation failed or never ran', async () => {
    const intent = freshIntent();
    await ledger.once(intent.request(), () => Promise.resolve({ receipt: 'r-1' }));
    await ledger
      .once(
        { ...intent.request(), key: compensationKey(intent.key), fingerprint: fingerprint({ undo: true }) },
        () => Promise.reject(new BusinessError('REFUND_REFUSED', 'refused')),
      )
      .catch(() => undefined);
    const again = await ledger.once(intent.request(), () => Promise.resolve({ receipt: 'r-2' }));
    expect(again).toMatchObject({ outcome: 'replayed', result: { receipt: 'r-1' } });
  });

  it('lists which keys were undone', async () => {
    const undone = freshIntent();
    const kept = freshIntent();
    await doThenUndo(undone);
    await ledger.once(kept.request(), () => Promise.resolve({ receipt: 'k' }));
    const found = await ledger.undone([undone.key, kept.key, 'ik_unknown']);
    expect(found.map((f) => f.key)).toEqual([undone.key]);
    expect(found[0]?.undoneAt).toBeInstanceOf(Date);
  });

  it('lists the effects of a scope with an undo record that the saga does not know, and not undone', async () => {
    const known = freshIntent();
    const scope = known.scope;
    const sibling = (operation: string) => ({ ...freshIntent(operation), scope });
    const lost = sibling('charge_card');
    const inFlight = sibling('book_shipment');
    const undone = sibling('reserve');
    const plain = sibling('send_note');
    const undo = (step: string) => ({ step, irreversible: false, execution: 'local' });
    await ledger.once(known.request({ undo: undo('known') }), () => Promise.resolve(1));
    await ledger.once({ ...lost.request({ undo: undo('lost') }), scope }, () => Promise.resolve(2));
    await ledger.once({ ...undone.request({ undo: undo('undone') }), scope }, () => Promise.resolve(3));
    await ledger.once(
      { ...undone.request(), scope, key: compensationKey(undone.key), fingerprint: fingerprint({ u: 1 }) },
      () => Promise.resolve('undone'),
    );
    await ledger.once({ ...plain.request(), scope }, () => Promise.resolve(4)); // no undo record
    // A claim whose outcome is not known yet counts: its compensation asks what happened.
    void ledger.once({ ...inFlight.request({ undo: undo('in flight') }), scope }, hangs);
    await claimed(ledger, inFlight.key);

    const found = await ledger.unrecorded(scope, [known.key]);
    expect(found.map((f) => f.key)).toEqual([lost.key, inFlight.key]);
    expect(found[0]?.undo).toEqual(undo('lost'));
    expect(await ledger.unrecorded(scope, [known.key, lost.key, inFlight.key])).toEqual([]);
    expect(await ledger.unrecorded(`other-${scope}`, [])).toEqual([]);
  });

  it("reports a step's recorded outcome for its compensation", async () => {
    const never = freshIntent();
    expect(await ledger.stepOutcome(never.key)).toEqual({
      status: 'not_performed',
      reason: 'never attempted',
    });

    const declined = freshIntent();
    await ledger
      .once(declined.request(), () => Promise.reject(new BusinessError('CARD_DECLINED', 'declined')))
      .catch(() => undefined);
    expect(await ledger.stepOutcome(declined.key)).toMatchObject({ status: 'not_performed' });

    const done = freshIntent();
    await ledger.once(done.request(), () => Promise.resolve({ receipt: 'd' }));
    expect(await ledger.stepOutcome(done.key)).toEqual({ status: 'performed', result: { receipt: 'd' } });

    const released = freshIntent();
    await ledger
      .once(released.request(), () => Promise.reject(new Error('ECONNRESET')))
      .catch(() => undefined);
    // Released after a transient error: unknown, with the code the attempt gave the claim back with.
    expect(await ledger.stepOutcome(released.key)).toEqual({ status: 'unknown', lastError: 'TRANSIENT' });

    const inFlight = freshIntent();
    void ledger.once(inFlight.request({ leaseMs: 60_000 }), hangs).catch(() => undefined);
    await expect
      .poll(() => ledger.stepOutcome(inFlight.key).catch((err: unknown) => err))
      .toBeInstanceOf(KeyInUseError);
  });

  it('maps a compensation key back to its step key', () => {
    expect(stepKeyOf(compensationKey('ik_abc'))).toBe('ik_abc');
    expect(() => stepKeyOf('ik_abc')).toThrow(TypeError);
  });
});
