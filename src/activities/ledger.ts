import type { Ledger, LedgerStats } from '../idempotency/ledger.js';
import type { TranscriptStore } from '../transcript/store.js';

/** Ledger maintenance and reporting as activities. */
export function createLedgerActivities(ledger: Ledger, transcripts?: TranscriptStore) {
  return {
    /**
     * Deletes expired ledger rows in batches (never rows marked for a person), and stored transcript
     * messages not written for the same retention.
     */
    async pruneLedger(): Promise<{ deleted: number; transcriptMessagesDeleted: number }> {
      return {
        deleted: await ledger.prune(),
        transcriptMessagesDeleted: transcripts ? await transcripts.prune() : 0,
      };
    },
    /** Counts of the ledger, for one scope or all. */
    async ledgerStats(filter: { scope?: string } = {}): Promise<LedgerStats> {
      return ledger.stats(filter);
    },
  };
}
