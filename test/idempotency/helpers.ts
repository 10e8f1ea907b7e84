import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import { inject } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { fingerprint } from '../../src/idempotency/keys.js';
import type { Ledger, LedgerRow, OnceRequest, RecoveryPolicy } from '../../src/idempotency/ledger.js';

/** A pool on the run's Postgres; test files run concurrently, so every test uses its own keys and scopes. */
export function testPool(size = 8): pg.Pool {
  return createPool(inject('databaseUrl'), size);
}

/** A fresh scope and key, with a request builder for them. */
export function freshIntent(operation = 'charge_card') {
  const scope = `test-${randomUUID()}`;
  const key = `ik_${randomUUID()}`;
  return {
    scope,
    key,
    request<T>(overrides: Partial<OnceRequest<T>> & { recovery?: RecoveryPolicy } = {}): OnceRequest<T> {
      return {
        key,
        scope,
        operation,
        fingerprint: fingerprint({ amount: 100 }),
        recovery: 'resume',
        ...overrides,
      };
    },
  };
}

/** A perform that counts its calls and returns a receipt, optionally after a delay. */
export function countingPerform(delayMs = 0) {
  const calls: { attempt: number; recovering: boolean }[] = [];
  const perform = async (ctx: { attempt: number; recovering: boolean }) => {
    calls.push({ attempt: ctx.attempt, recovering: ctx.recovering });
    if (delayMs > 0) await sleep(delayMs);
    return { receipt: `r-${calls.length}` };
  };
  return { calls, perform };
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** A perform that never settles: the claimer "dies" holding its lease. */
export const hangs = () => new Promise<never>(() => undefined);

/** Waits until `key` is claimed (its row holds a lease) and returns the row. */
export async function claimed(ledger: Ledger, key: string): Promise<LedgerRow> {
  for (let i = 0; i < 1000; i++) {
    const row = await ledger.get(key);
    if (row?.leaseExpiresAt) return row;
    await sleep(5);
  }
  throw new Error(`${key} was never claimed`);
}

/** Waits until the claim of `key` has expired on the clock `now` (the ledger's clock). */
export async function claimExpired(ledger: Ledger, key: string, now: () => number = Date.now): Promise<void> {
  const row = await claimed(ledger, key);
  const wait = row.leaseExpiresAt!.getTime() - now() + 20;
  if (wait > 0) await sleep(wait);
}
