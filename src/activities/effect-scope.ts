import { AsyncLocalStorage } from 'node:async_hooks';
import type { Ledger } from '../idempotency/ledger.js';

const current = new AsyncLocalStorage<Ledger>();

/**
 * Runs `fn` with `ledger` as the ledger of every {@link effect} called inside it. The worker plugin
 * wraps each activity execution in it, so activities find the worker's ledger without wiring.
 */
export function withLedger<T>(ledger: Ledger, fn: () => T): T {
  return current.run(ledger, fn);
}

/** The ledger of the running activity, if a worker plugin (or {@link withLedger}) set one. */
export function currentLedger(): Ledger | undefined {
  return current.getStore();
}
