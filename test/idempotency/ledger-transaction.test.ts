import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BusinessError, IdempotencyKeyReusedError } from '../../src/idempotency/errors.js';
import { fingerprint } from '../../src/idempotency/keys.js';
import { Ledger } from '../../src/idempotency/ledger.js';
import { freshIntent, sleep, testPool } from './helpers.js';

/** The effect under test: one row in task_events (migration 001), tagged with the scope. */
async function writeEvent(client: pg.PoolClient, scope: string, kind: string): Promise<{ id: number }> {
  const { rows } = await client.query<{ id: string }>(
    'INSERT INTO task_events (task_id, kind) VALUES ($1, $2) RETURNING id',
    [scope, kind],
  );
  return { id: Number(rows[0]?.id) };
}

describe('Ledger.onceInTransaction', () => {
  let pool: pg.Pool;
  let ledger: Ledger;
  beforeAll(() => {
    pool = testPool(24);
    ledger = new Ledger(pool);
  });
  afterAll(async () => {
    await ledger.close();
    await pool.end();
  });

  const events = async (scope: string) =>
    (await pool.query<{ kind: string }>('SELECT kind FROM task_events WHERE task_id = $1', [scope])).rows;

  it('writes the effect and the ledger row together, then replays without writing again', async () => {
    const intent = freshIntent('record_order');
    const first = await ledger.onceInTransaction(intent.request(), (client) =>
      writeEvent(client, intent.scope, 'order'),
    );
    const again = await ledger.onceInTransaction(intent.request(), (client) =>
      writeEvent(client, intent.scope, 'order'),
    );
    expect(first.outcome).toBe('executed');
    expect(again).toEqual({ ...first, outcome: 'replayed' });
    expect(await events(intent.scope)).toHaveLength(1);
    expect(await ledger.get(intent.key)).toMatchObject({ status: 'succeeded', response: first.result });
  });

  it('leaves neither the effect nor a ledger row when the transaction rolls back', async () => {
    const intent = freshIntent('record_order');
    await expect(
      ledger.onceInTransaction(intent.request(), async (client) => {
        await writeEvent(client, intent.scope, 'order');
        throw new Error('connection lost mid-write');
      }),
    ).rejects.toThrow('connection lost');
    expect(await events(intent.scope)).toHaveLength(0);
    expect(await ledger.get(intent.key)).toBeUndefined();
    const retried = await ledger.onceInTransaction(intent.request(), (client) =>
      writeEvent(client, intent.scope, 'order'),
    );
    expect(retried.outcome).toBe('executed');
    expect(await events(intent.scope)).toHaveLength(1);
  });

  it('rolls the effect back on a business error, stores the error and replays it', async () => {
    const intent = freshIntent('record_order');
    const reject = async (client: pg.PoolClient) => {
      await writeEvent(client, intent.scope, 'order');
      throw new BusinessError('OUT_OF_STOCK', 'sku-1 is out of stock', { sku: 'sku-1' });
    };
    await expect(ledger.onceInTransaction(intent.request(), reject)).rejects.toMatchObject({
      code: 'OUT_OF_STOCK',
    });
    await expect(ledger.onceInTransaction(intent.request(), reject)).rejects.toMatchObject({
      code: 'OUT_OF_STOCK',
      details: { sku: 'sku-1' },
    });
    expect(await events(intent.scope)).toHaveLength(0);
    await ledger.flush();
    // The first failure is an execution, the second a replay of it.
    expect(await ledger.get(intent.key)).toMatchObject({
      status: 'failed',
      error: { code: 'OUT_OF_STOCK' },
      replays: 1,
    });
  });

  it('writes once when 16 duplicates race: the others wait for the commit and replay it', async () => {
    const intent = freshIntent('record_order');
    let performs = 0;
    const results = await Promise.all(
      Array.from({ length: 16 }, () =>
        ledger.onceInTransaction(intent.request(), async (client) => {
          performs++;
          await sleep(50);
          return writeEvent(client, intent.scope, 'order');
        }),
      ),
    );
    expect(performs).toBe(1);
    expect(await events(intent.scope)).toHaveLength(1);
    expect(new Set(results.map((r) => r.result.id)).size).toBe(1);
    expect(results.filter((r) => r.outcome === 'executed')).toHaveLength(1);
  });

  it('gives the same outcomes when told to claim before reading', async () => {
    const intent = freshIntent('record_order');
    const write = (client: pg.PoolClient) => writeEvent(client, intent.scope, 'order');
    const first = await ledger.onceInTransaction(intent.request({ claimFirst: true }), write);
    const again = await ledger.onceInTransaction(intent.request({ claimFirst: true }), write);
    expect([first.outcome, again.outcome]).toEqual(['executed', 'replayed']);
    expect(await events(intent.scope)).toHaveLength(1);
  });

  it('rejects the same key with another fingerprint without writing', async () => {
    const intent = freshIntent('record_order');
    await ledger.onceInTransaction(intent.request(), (client) => writeEvent(client, intent.scope, 'order'));
    await expect(
      ledger.onceInTransaction(intent.request({ fingerprint: fingerprint({ amount: 5 }) }), (client) =>
        writeEvent(client, intent.scope, 'order'),
      ),
    ).rejects.toBeInstanceOf(IdempotencyKeyReusedError);
    expect(await events(intent.scope)).toHaveLength(1);
  });
});
