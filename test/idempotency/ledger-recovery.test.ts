import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeyInUseError, OutcomeUnknownError } from '../../src/idempotency/errors.js';
import { Ledger, type OnceRequest } from '../../src/idempotency/ledger.js';
import { claimExpired, countingPerform, freshIntent, hangs, sleep, testPool } from './helpers.js';

const LEASE_MS = 150;

describe('Ledger.once after a claimer died (expired lease)', () => {
  let pool: pg.Pool;
  let ledger: Ledger;
  beforeAll(() => {
    pool = testPool();
    ledger = new Ledger(pool, { leaseMs: LEASE_MS });
  });
  afterAll(async () => {
    await ledger.close();
    await pool.end();
  });

  /** A first attempt claims the key and dies (never completes); returns once its lease has expired. */
  async function crashedClaim(
    intent: ReturnType<typeof freshIntent>,
    request: Partial<OnceRequest<unknown>> = {},
  ) {
    void ledger.once(intent.request(request), hangs);
    await claimExpired(ledger, intent.key);
    expect(await ledger.get(intent.key)).toMatchObject({ status: 'in_progress', attempts: 1 });
  }

  it('resume: performs again with the same key, flagged as recovering, and records the recovery', async () => {
    const intent = freshIntent();
    await crashedClaim(intent);
    const { calls, perform } = countingPerform();
    const done = await ledger.once(intent.request({ recovery: 'resume' }), perform);
    expect(done).toMatchObject({ outcome: 'recovered', result: { receipt: 'r-1' }, attempts: 2 });
    expect(calls).toEqual([{ attempt: 2, recovering: true }]);
    expect(await ledger.get(intent.key)).toMatchObject({
      status: 'succeeded',
      recoveredBy: 'resume',
      completedBy: 'perform',
    });
    expect((await ledger.once(intent.request(), perform)).outcome).toBe('replayed');
  });

  it('verify: completes the row with what the downstream found, without performing', async () => {
    const intent = freshIntent();
    await crashedClaim(intent);
    const { calls, perform } = countingPerform();
    const verify = () => Promise.resolve({ found: true as const, result: { receipt: 'from-downstream' } });
    const done = await ledger.once(intent.request({ recovery: 'verify', verify }), perform);
    expect(done).toMatchObject({ outcome: 'recovered', result: { receipt: 'from-downstream' } });
    expect(calls).toHaveLength(0);
    expect(await ledger.get(intent.key)).toMatchObject({
      status: 'succeeded',
      response: { receipt: 'from-downstream' },
      recoveredBy: 'verify',
      completedBy: 'verify',
    });
  });

  it('verify: performs when the downstream has no trace of the effect', async () => {
    const intent = freshIntent();
    await crashedClaim(intent);
    const { calls, perform } = countingPerform();
    const verify = () => Promise.resolve({ found: false as const });
    const done = await ledger.once(intent.request({ recovery: 'verify', verify }), perform);
    expect(done).toMatchObject({ outcome: 'recovered', result: { receipt: 'r-1' } });
    expect(calls).toEqual([{ attempt: 2, recovering: true }]);
  });

  it('verify: escalates when verify cannot decide', async () => {
    const intent = freshIntent();
    await crashedClaim(intent);
    const verify = () => Promise.reject(new OutcomeUnknownError(intent.key, 'mailbox unreachable'));
    const err = await ledger
      .once(intent.request({ recovery: 'verify', verify }), countingPerform().perform)
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect(await ledger.get(intent.key)).toMatchObject({ needsAttention: true, status: 'in_progress' });
  });

  it('escalate: marks the row for a person and fails non-retryably, now and on every later request', async () => {
    const intent = freshIntent();
    await crashedClaim(intent);
    const { calls, perform } = countingPerform();
    const err = await ledger.once(intent.request({ recovery: 'escalate' }), perform).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect(err).toMatchObject({ code: 'OUTCOME_UNKNOWN', retryable: false, key: intent.key });
    expect(await ledger.get(intent.key)).toMatchObject({
      status: 'in_progress',
      needsAttention: true,
      recoveredBy: 'escalate',
      error: { code: 'OUTCOME_UNKNOWN' },
    });
    // Once a person owns the row, no policy performs it behind their back.
    await expect(ledger.once(intent.request({ recovery: 'resume' }), perform)).rejects.toBeInstanceOf(
      OutcomeUnknownError,
    );
    expect(calls).toHaveLength(0);
    const flagged = await ledger.needingAttention({ scope: intent.scope });
    expect(flagged.map((r) => r.key)).toEqual([intent.key]);
  });

  it("keeps a live attempt's claim while it renews the lease, and frees it once renewals stop", async () => {
    const intent = freshIntent();
    const lease = 1_000; // long enough that a loaded machine renews in time
    void ledger.once(intent.request({ leaseMs: lease }), hangs);
    await sleep(20);
    // The attempt heartbeats: each renewal pushes the lease out, past the first lease's end, so a
    // retry keeps seeing the key in use.
    for (let i = 0; i < 3; i++) {
      await sleep(lease / 2.5);
      expect(await ledger.renewLeases([intent.key], lease)).toBe(1);
      const error = await ledger.once(intent.request(), hangs).catch((err: unknown) => err);
      expect(error).toBeInstanceOf(KeyInUseError);
    }
    // Another owner's ledger cannot renew it.
    expect(await new Ledger(pool, { leaseMs: lease }).renewLeases([intent.key], lease)).toBe(0);
    // Renewals stop (the worker died): after one lease the next attempt recovers.
    await claimExpired(ledger, intent.key);
    const { perform } = countingPerform();
    expect(await ledger.once(intent.request(), perform)).toMatchObject({ outcome: 'recovered' });
    expect(await ledger.renewLeases([intent.key], LEASE_MS)).toBe(0); // done: nothing to renew
  });

  it('lets exactly one of several concurrent recoverers take over the crashed claim', async () => {
    const intent = freshIntent();
    await crashedClaim(intent);
    const { calls, perform } = countingPerform(30);
    const outcomes = await Promise.all(
      Array.from({ length: 8 }, () =>
        ledger.once(intent.request({ recovery: 'resume' }), perform).then(
          (r) => r.outcome,
          (e: unknown) => (e instanceof KeyInUseError ? 'in-use' : e),
        ),
      ),
    );
    expect(calls).toHaveLength(1);
    expect(outcomes.filter((o) => o === 'recovered')).toHaveLength(1);
    expect(outcomes.every((o) => o === 'recovered' || o === 'in-use' || o === 'replayed')).toBe(true);
  });

  it('records the late result of a claimer that outlived its lease, and the recoverer still gets its own', async () => {
    const intent = freshIntent();
    let finishLate: (v: string) => void = () => undefined;
    const late = ledger.once(
      intent.request(),
      () => new Promise<string>((resolve) => (finishLate = resolve)),
    );
    await claimExpired(ledger, intent.key);
    const recovering = ledger.once(intent.request({ recovery: 'resume' }), async () => {
      await sleep(100);
      return 'second';
    });
    while ((await ledger.get(intent.key))?.attempts !== 2) await sleep(5);
    finishLate('first');
    expect((await late).result).toBe('first');
    expect((await recovering).result).toBe('second');
    expect((await ledger.get(intent.key))?.response).toBe('first');
  });

  it('asks verify before performing again after a released claim, catching a response dropped after commit', async () => {
    const intent = freshIntent();
    const downstream = new Map<string, string>();
    const perform = ({ key }: { key: string }) => {
      downstream.set(key, 'sent');
      return Promise.reject(new Error('socket hang up'));
    };
    const verify = () =>
      Promise.resolve(
        downstream.has(intent.key) ? { found: true as const, result: 'sent' } : { found: false as const },
      );
    await expect(ledger.once(intent.request({ recovery: 'verify', verify }), perform)).rejects.toThrow(
      'hang up',
    );
    const done = await ledger.once(intent.request({ recovery: 'verify', verify }), perform);
    expect(done).toMatchObject({ outcome: 'recovered', result: 'sent' });
    expect(downstream.size).toBe(1);
  });

  it('marks the row for a person when perform itself reports an unknown outcome', async () => {
    const intent = freshIntent();
    const err = await ledger
      .once(intent.request(), ({ key }) =>
        Promise.reject(new OutcomeUnknownError(key, 'SMTP timed out after DATA')),
      )
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OutcomeUnknownError);
    expect(await ledger.get(intent.key)).toMatchObject({
      needsAttention: true,
      error: { code: 'OUTCOME_UNKNOWN' },
    });
  });

  it('marks the row for a person when the effect happened but its result cannot be stored', async () => {
    const intent = freshIntent();
    await expect(ledger.once(intent.request(), () => Promise.resolve({ amount: 10n }))).rejects.toThrow(
      /not JSON-serialisable/,
    );
    expect(await ledger.get(intent.key)).toMatchObject({
      status: 'in_progress',
      needsAttention: true,
      error: { code: 'RESULT_NOT_SERIALISABLE' },
    });
  });
});
