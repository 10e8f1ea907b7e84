import type { Ledger, LedgerStats } from '../idempotency/ledger.js';
import type { TaskStream } from '../stream/store.js';
import type { TranscriptStore } from '../transcript/store.js';

/** Ledger maintenance and reporting as activities. */
export function createLedgerActivities(ledger: Ledger, transcripts?: TranscriptStore, stream?: TaskStream) {
  return {
    /**
     * Deletes expired ledger rows in batches (never rows marked for a person), and stored transcript
     * messages and live-stream events older than the same retention.
     */
    async pruneLedger(): Promise<{
      deleted: number;
      transcriptMessagesDeleted: number;
      streamEventsDeleted?: number;
    }> {
      return {
        deleted: await ledger.prune(),
        transcriptMessagesDeleted: transcripts ? await transcripts.prune() : 0,
        streamEventsDeleted: stream ? await stream.prune() : 0,
      };
    },
    /** Which of these step keys were done and then undone (their compensation key succeeded). */
    async undoneEffects(input: { keys: string[] }): Promise<string[]> {
      return (await ledger.undone(input.keys)).map((u) => u.key);
    },
    /**
     * The effects of a task the saga does not know (see `Ledger.unrecorded`), with their undo records.
     */
    async unrecordedEffects(input: {
      scope: string;
      known: string[];
    }): Promise<{ key: string; undo: unknown }[]> {
      return ledger.unrecorded(input.scope, input.known);
    },
    /** Counts of the ledger, for one scope or all. */
    async ledgerStats(filter: { scope?: string } = {}): Promise<LedgerStats> {
      return ledger.stats(filter);
    },
  };
}
