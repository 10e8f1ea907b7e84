import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OnceflowError } from '../../src/errors.js';
import { BusinessError, IdempotencyKeyReusedError, KeyInUseError } from '../../src/idempotency/errors.js';
import { fingerprint } from '../../src/idempotency/keys.js';
import { Ledger, type OnceResult } from '../../src/idempotency/ledger.js';
import { claimed, countingPerform, freshIntent, sleep, testPool } from './helpers.js';

describe('Ledger.once', () => {
  let pool: pg.Pool;
  let ledger: Ledger;
  beforeAll(() => {
    pool = testPool(16);
    ledger = new Ledger(pool);
  });
  afterAll(async () => {
    await ledger.close();
    await pool.end();
  });

  it('claims a new key, performs once and stores the result as succeeded', async () => {
    const intent = freshIntent();
    const { calls, perform } = countingPerform();
    const done = await ledger.once(intent.request(), perform);
    expect(done).toMatchObject({
      outcome: 'executed',
      result: { receipt: 'r-1' },
      key: intent.key,
      attempts: 1,
    });
    expect(calls).toEqual([{ attempt: 1, recovering: false }]);
    const row = await ledger.get(intent.key);
    expect(row).toMatchObject({
      status: 'succeeded',
      scope: intent.scope,
      operation: 'charge_card',
      response: { receipt: 'r-1' },
      leaseOwner: null,
      leaseExpiresAt: null,
      completedBy: 'perform',
      attempts: 1,
    });
    expect(row?.expiresAt.getTime()).toBe(row!.createdAt.getTime() + 30 * 24 * 60 * 60 * 1000);
  });

  it('replays the stored result for the same key and fingerprint without performing again', async () => {
    const intent = freshIntent();
    const { calls, perform } = countingPerform();
    const first = await ledger.once(intent.request(), perform);
    const again = await ledger.once(intent.request(), perform);
    expect(calls).toHaveLength(1);
    expect(again).toEqual({ ...first, outcome: 'replayed' });
    await ledger.flush();
    expect((await ledger.get(intent.key))?.replays).toBe(1);
  });

  it('stores a business error and throws it again on every later request with the key', async () => {
    const intent = freshIntent();
    let calls = 0;
    const decline = () => {
      calls++;
      return Promise.reject(
        new BusinessError('CARD_DECLINED', 'insufficient funds', { declineCode: 'insufficient_funds' }),
      );
    };
    const first = await ledger.once(intent.request(), decline).catch((err: unknown) => err);
    const again = await ledger.once(intent.request(), decline).catch((err: unknown) => err);
    expect(calls).toBe(1);
    for (const err of [first, again]) {
      expect(err).toBeInstanceOf(BusinessError);
      expect(err).toMatchObject({
        code: 'CARD_DECLINED',
        message: 'insufficient funds',
        retryable: false,
        details: { declineCode: 'insufficient_funds' },
      });
    }
    expect(await ledger.get(intent.key)).toMatchObject({
      status: 'failed',
      error: { code: 'CARD_DECLINED' },
    });
  });

  it('rejects the same key with another fingerprint, naming both, whatever the status', async () => {
    const succeeded = freshIntent();
    await ledger.once(succeeded.request(), countingPerform().perform);
    const failed = freshIntent();
    await ledger
      .once(failed.request(), () => Promise.reject(new BusinessError('CARD_DECLINED', 'no')))
      .catch(() => undefined);
    const inProgress = freshIntent();
    const running = ledger.once(inProgress.request(), countingPerform(300).perform);
    await claimed(ledger, inProgress.key);

    const other = fingerprint({ amount: 999 });
    for (const intent of [succeeded, failed, inProgress]) {
      const { calls, perform } = countingPerform();
      const err = await ledger.once(intent.request({ fingerprint: other }), perform).catch((e: unknown) => e);
      expect(calls).toHaveLength(0);
      expect(err).toBeInstanceOf(IdempotencyKeyReusedError);
      const reused = err as IdempotencyKeyReusedError;
      expect(reused).toMatchObject({
        code: 'IDEMPOTENCY_KEY_REUSED',
        retryable: false,
        key: intent.key,
        storedFingerprint: intent.request().fingerprint,
        requestFingerprint: other,
      });
      expect(reused.message).toContain(intent.request().fingerprint);
      expect(reused.message).toContain(other);
    }
    await running;
  });

  it('refuses a concurrent duplicate while the first attempt holds a live lease, then replays it', async () => {
    const intent = freshIntent();
    const slow = countingPerform(200);
    const first = ledger.once(intent.request(), slow.perform);
    await claimed(ledger, intent.key);
    const err = await ledger.once(intent.request(), slow.perform).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(KeyInUseError);
    expect(err).toMatchObject({ code: 'KEY_IN_USE', retryable: true, key: intent.key });
    expect((err as KeyInUseError).leaseExpiresAt?.getTime()).toBeGreaterThan(Date.now());
    await first;
    const retried = await ledger.once(intent.request(), slow.perform);
    expect(retried.outcome).toBe('replayed');
    expect(slow.calls).toHaveLength(1);
  });

  it('releases the claim on a transient error so a retry performs again with the same key', async () => {
    const intent = freshIntent();
    const seen: { key: string; attempt: number; recovering: boolean }[] = [];
    const flaky = (ctx: { key: string; attempt: number; recovering: boolean }) => {
      seen.push(ctx);
      return seen.length === 1 ? Promise.reject(new Error('ECONNRESET')) : Promise.resolve('charged');
    };
    await expect(ledger.once(intent.request(), flaky)).rejects.toThrow('ECONNRESET');
    expect(await ledger.get(intent.key)).toMatchObject({
      status: 'in_progress',
      leaseOwner: null,
      leaseExpiresAt: null,
      error: { code: 'TRANSIENT', message: 'ECONNRESET' },
    });
    const retried = await ledger.once(intent.request(), flaky);
    expect(retried).toMatchObject({ outcome: 'executed', result: 'charged', attempts: 2 });
    expect(seen).toEqual([
      { key: intent.key, attempt: 1, recovering: false },
      { key: intent.key, attempt: 2, recovering: true },
    ]);
  });

  it('keeps the fingerprint of a released claim, so a retry with other terms is a conflict', async () => {
    const intent = freshIntent();
    await ledger.once(intent.request(), () => Promise.reject(new Error('timeout'))).catch(() => undefined);
    const err = await ledger
      .once(intent.request({ fingerprint: fingerprint({ amount: 1 }) }), () => Promise.resolve('x'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('forgets the claim when the downstream says it did nothing, so the corrected call may have other terms', async () => {
    class Refused extends OnceflowError {
      readonly code = 'REFUSED_BY_TOOL';
      readonly retryable = false;
      override readonly nothingDone = true;
    }
    const intent = freshIntent();
    await expect(
      ledger.once(intent.request(), () => Promise.reject(new Refused('missing subject'))),
    ).rejects.toThrow('missing subject');
    expect(await ledger.get(intent.key)).toBeUndefined();
    const corrected = await ledger.once(intent.request({ fingerprint: fingerprint({ amount: 1 }) }), () =>
      Promise.resolve('done'),
    );
    expect(corrected).toMatchObject({ outcome: 'executed', result: 'done', attempts: 1 });
    // Done now: the key keeps these terms.
    const err = await ledger
      .once(intent.request({ fingerprint: fingerprint({ amount: 2 }) }), () => Promise.resolve('x'))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('returns the JSON round trip of the result on first execution and on replay alike', async () => {
    const intent = freshIntent();
    const at = new Date('2024-05-06T07:08:09Z');
    const first = await ledger.once(intent.request(), () => Promise.resolve({ at, note: undefined, n: 1 }));
    const replay = await ledger.once(intent.request(), () => Promise.resolve({ at, note: undefined, n: 2 }));
    expect(first.result).toEqual({ at: '2024-05-06T07:08:09.000Z', n: 1 });
    expect(replay.result).toEqual(first.result);

    const empty = freshIntent();
    await ledger.once(empty.request(), () => Promise.resolve(undefined));
    expect((await ledger.once(empty.request(), () => Promise.resolve(undefined))).result).toBeUndefined();
  });

  it('lets exactly one of 64 concurrent callers perform; the others replay, at once or after KEY_IN_USE', async () => {
    const intent = freshIntent();
    const { calls, perform } = countingPerform(100);
    let inUse = 0;
    const caller = async (): Promise<OnceResult<{ receipt: string }>> => {
      for (;;) {
        try {
          return await ledger.once(intent.request(), perform);
        } catch (err) {
          if (!(err instanceof KeyInUseError)) throw err;
          inUse++;
          await sleep(20 + Math.random() * 30);
        }
      }
    };
    const results = await Promise.all(Array.from({ length: 64 }, caller));
    expect(calls).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'executed')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'replayed')).toHaveLength(63);
    expect(new Set(results.map((r) => r.result.receipt))).toEqual(new Set(['r-1']));
    expect(inUse).toBeGreaterThan(0);
    const stats = await ledger.stats({ scope: intent.scope });
    expect(stats).toMatchObject({ executed: 1, replayed: 63, inFlightRejections: inUse });
  });

  it('gives the same outcomes when told to claim before reading', async () => {
    const intent = freshIntent();
    const { calls, perform } = countingPerform();
    const first = await ledger.once(intent.request({ claimFirst: true }), perform);
    const again = await ledger.once(intent.request({ claimFirst: true }), perform);
    expect([first.outcome, again.outcome]).toEqual(['executed', 'replayed']);
    expect(calls).toHaveLength(1);
    await expect(
      ledger.once(intent.request({ claimFirst: true, fingerprint: fingerprint({ amount: 3 }) }), perform),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
  });

  it('refuses a verify recovery without a verify function', async () => {
    const intent = freshIntent();
    await expect(
      ledger.once(intent.request({ recovery: 'verify' }), countingPerform().perform),
    ).rejects.toThrow(/verify function/);
  });
});
