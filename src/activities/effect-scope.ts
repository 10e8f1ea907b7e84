import { AsyncLocalStorage } from 'node:async_hooks';
import type { Ledger } from '../idempotency/ledger.js';

interface Scope {
  ledger: Ledger;
  /** Keys claimed by effects running in this activity, whose leases its heartbeats renew. */
  claims: Set<string>;
}

const current = new AsyncLocalStorage<Scope>();

/**
 * Runs `fn` with `ledger` as the ledger of every {@link effect} called inside it. The worker plugin
 * wraps each activity execution in it, so activities find the worker's ledger without wiring.
 */
export function withLedger<T>(ledger: Ledger, fn: () => T): T {
  return current.run({ ledger, claims: new Set() }, fn);
}

/** The ledger of the running activity, if a worker plugin (or {@link withLedger}) set one. */
export function currentLedger(): Ledger | undefined {
  return current.getStore()?.ledger;
}

/** The keys effects of the running activity hold claims on (empty outside {@link withLedger}). */
export function heldClaims(): Set<string> {
  return current.getStore()?.claims ?? new Set();
}
