import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessError } from '../../src/idempotency/errors.js';
import { fingerprint } from '../../src/idempotency/keys.js';
import { Ledger } from '../../src/idempotency/ledger.js';
import { claimed, claimExpired, countingPerform, freshIntent, hangs, sleep, testPool } from './helpers.js';

const DAY = 24 * 60 * 60 * 1000;

describe('Ledger.prune', () => {
  let pool: pg.Pool;
  beforeAll(() => {
    pool = testPool();
  });
  afterAll(async () => {
    await pool.end();
  });

  it('removes rows past their retention in batches and keeps the others', async () => {
    // Rows claimed 40 days ago with the default 30-day retention expired 10 days ago.
    const past = new Ledger(pool, { now: () => new Date(Date.now() - 40 * DAY) });
    const present = new Ledger(pool);
    const old = Array.from({ length: 5 }, () => freshIntent());
    const fresh = Array.from({ length: 2 }, () => freshIntent());
    for (const intent of old) await past.once(intent.request(), countingPerform().perform);
    for (const intent of fresh) await present.once(intent.request(), countingPerform().perform);

    const removed = await present.prune({ batchSize: 2 });
    expect(removed).toBeGreaterThanOrEqual(old.length);
    for (const intent of old) expect(await present.get(intent.key)).toBeUndefined();
    for (const intent of fresh) expect(await present.get(intent.key)).toBeDefined();
  });

  it('keeps an expired row that is marked for a person', async () => {
    const past = new Ledger(pool, { now: () => new Date(Date.now() - 40 * DAY), leaseMs: 10 });
    const intent = freshIntent();
    void past.once(intent.request(), hangs);
    await claimExpired(past, intent.key, () => Date.now() - 40 * DAY);
    await expect(past.once(intent.request({ recovery: 'escalate' }), hangs)).rejects.toMatchObject({
      code: 'OUTCOME_UNKNOWN',
    });
    await new Ledger(pool).prune();
    expect(await past.get(intent.key)).toMatchObject({ needsAttention: true });
  });

  it('honours a custom retention', async () => {
    const short = new Ledger(pool, { retentionMs: 1 });
    const intent = freshIntent();
    await short.once(intent.request(), countingPerform().perform);
    await sleep(5);
    await short.prune();
    expect(await short.get(intent.key)).toBeUndefined();
  });
});

describe('Ledger.stats', () => {
  let pool: pg.Pool;
  let ledger: Ledger;
  beforeAll(() => {
    pool = testPool();
    ledger = new Ledger(pool, { leaseMs: 100 });
  });
  afterAll(async () => {
    await ledger.close();
    await pool.end();
  });

  it('counts executions, replays, conflicts, in-flight rejections, failures and recoveries per scope and operation', async () => {
    const charge = freshIntent('charge_card');
    const scope = charge.scope;
    const inScope = (operation: string) => {
      const intent = freshIntent(operation);
      return { ...intent, request: (o = {}) => ({ ...intent.request(o), scope }) };
    };

    await ledger.once(charge.request(), countingPerform().perform);
    await ledger.once(charge.request(), countingPerform().perform);
    await ledger.once(charge.request(), countingPerform().perform);
    await ledger
      .once(charge.request({ fingerprint: fingerprint({ amount: 7 }) }), countingPerform().perform)
      .catch(() => undefined);

    const declined = inScope('charge_card');
    await ledger
      .once(declined.request(), () => Promise.reject(new BusinessError('CARD_DECLINED', 'no')))
      .catch(() => undefined);

    // A lease long enough that a loaded machine cannot let it lapse between the two calls: the second
    // must meet the claim in flight, never take over an expired one.
    const patient = new Ledger(pool, { leaseMs: 30_000 });
    const email = inScope('send_email');
    const slow = patient.once(email.request(), countingPerform(300).perform);
    await claimed(patient, email.key);
    await patient.once(email.request(), countingPerform().perform).catch(() => undefined);
    await slow;
    await patient.close();

    const crashed = inScope('send_email');
    void ledger.once(crashed.request(), hangs);
    await claimExpired(ledger, crashed.key);
    await ledger.once(crashed.request({ recovery: 'resume' }), countingPerform().perform);

    const stats = await ledger.stats({ scope });
    expect(stats).toMatchObject({
      // The resumed key was performed too, so it counts as executed as well as recovered.
      executed: 3,
      replayed: 2,
      duplicatesPrevented: 2,
      conflicts: 1,
      inFlightRejections: 1,
      failed: 1,
      recoveries: { resume: 1, verify: 0, escalate: 0 },
      inProgress: 0,
      needsAttention: 0,
    });
    expect(stats.byOperation.charge_card).toMatchObject({
      executed: 1,
      replayed: 2,
      conflicts: 1,
      failed: 1,
    });
    expect(stats.byOperation.send_email).toMatchObject({ executed: 2, inFlightRejections: 1 });
    expect(stats.byScope).toBeUndefined();
  });

  it('reports the most active scopes when not filtered by scope', async () => {
    const busy = freshIntent();
    await ledger.once(busy.request(), countingPerform().perform);
    for (let i = 0; i < 500; i++) await ledger.once(busy.request(), countingPerform().perform);
    const stats = await ledger.stats({ top: 5 });
    expect(Object.keys(stats.byScope ?? {})).toContain(busy.scope);
    expect(Object.keys(stats.byScope ?? {}).length).toBeLessThanOrEqual(5);
    expect(stats.byScope?.[busy.scope]).toMatchObject({ executed: 1, replayed: 500 });
    expect(stats.executed).toBeGreaterThanOrEqual(1);
  });
});
