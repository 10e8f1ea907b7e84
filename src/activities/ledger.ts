import type { Ledger, LedgerStats } from '../idempotency/ledger.js';

/** Ledger maintenance and reporting as activities. */
export function createLedgerActivities(ledger: Ledger) {
  return {
    /** Deletes expired ledger rows in batches (never rows marked for a person). */
    async pruneLedger(): Promise<{ deleted: number }> {
      return { deleted: await ledger.prune() };
    },
    /** Counts of the ledger, for one scope or all. */
    async ledgerStats(filter: { scope?: string } = {}): Promise<LedgerStats> {
      return ledger.stats(filter);
    },
  };
}
