import type { PayloadCodec } from '@temporalio/common';
import type pg from 'pg';
import { deleteInBatches } from '../db/batches.js';
import { seal, unseal, type SealedEncoding } from '../db/sealed.js';
import type { ConversationContext, Message, TranscriptRef } from '../tools/messages.js';
import { chainOf } from './digest.js';
import { TranscriptGapError } from './errors.js';

const DAY_MS = 24 * 3600 * 1000;
/** The row holding the conversation's context (system prompt and tools), before message 0. */
const CONTEXT_SEQ = -1;

/**
 * The agent conversation in Postgres, so that each `callModel` input carries only what is new and a
 * session's history grows linearly with its turns instead of quadratically. Workflow state stays the
 * source of truth: the store is a cache the workflow can always refill.
 */
export class TranscriptStore {
  private readonly codec: PayloadCodec | undefined;
  private readonly retentionMs: number;
  private readonly now: () => Date;

  constructor(
    private readonly pool: pg.Pool,
    options: { codec?: PayloadCodec | undefined; retentionMs?: number; now?: () => Date } = {},
  ) {
    this.codec = options.codec;
    this.retentionMs = options.retentionMs ?? 30 * DAY_MS;
    this.now = options.now ?? (() => new Date());
  }

  /** The same store, encrypting what it writes with `codec` (the worker's payload codec). */
  withCodec(codec: PayloadCodec | undefined): TranscriptStore {
    if (!codec) return this;
    return new TranscriptStore(this.pool, { codec, retentionMs: this.retentionMs, now: this.now });
  }

  /**
   * Writes `ref.context` (at seq -1) and `ref.append` (at `ref.base…`), reads the conversation up to its
   * end and checks it against `ref.digest`. Throws {@link TranscriptGapError} when rows are missing or
   * differ, e.g. after a prune or when a reset run diverged from what an older run stored.
   */
  async extend(ref: TranscriptRef): Promise<{ context: ConversationContext; messages: Message[] }> {
    const end = ref.base + ref.append.length;
    const writes: [number, unknown][] = ref.append.map((m, i) => [ref.base + i, m]);
    if (ref.context) writes.unshift([CONTEXT_SEQ, ref.context]);
    if (writes.length > 0) await this.write(ref.conversationId, writes);
    const [context, ...messages] = await this.read(ref.conversationId, end);
    if (context === undefined) {
      throw new TranscriptGapError(`transcript ${ref.conversationId} has no stored context`);
    }
    if (messages.length !== end) {
      throw new TranscriptGapError(
        `transcript ${ref.conversationId} has ${messages.length} of ${end} messages stored`,
      );
    }
    if (chainOf([context, ...messages]) !== ref.digest) {
      throw new TranscriptGapError(`transcript ${ref.conversationId} differs from the workflow's`);
    }
    return { context: context as ConversationContext, messages: messages as Message[] };
  }

  /** Deletes messages not written for the retention (default 30 days). Returns how many. */
  async prune(options: { batchSize?: number } = {}): Promise<number> {
    const before = new Date(this.now().getTime() - this.retentionMs);
    return deleteInBatches(
      this.pool,
      `DELETE FROM transcript_messages WHERE ctid IN (
         SELECT ctid FROM transcript_messages WHERE updated_at < $1 LIMIT $2)`,
      [before],
      options.batchSize ?? 5000,
    );
  }

  private async write(conversationId: string, entries: [number, unknown][]): Promise<void> {
    const bodies = await Promise.all(entries.map(([, value]) => seal(this.codec, value)));
    const values: unknown[] = [conversationId];
    const rows = bodies.map((b, i) => {
      values.push(entries[i]![0], b.encoding, b.body);
      const p = values.length;
      return `($1, $${p - 2}, $${p - 1}, $${p}, now())`;
    });
    await this.pool.query(
      `INSERT INTO transcript_messages (conversation_id, seq, encoding, body, updated_at)
       VALUES ${rows.join(', ')}
       ON CONFLICT (conversation_id, seq) DO UPDATE
         SET encoding = EXCLUDED.encoding, body = EXCLUDED.body, updated_at = EXCLUDED.updated_at`,
      values,
    );
  }

  /** The context (seq -1) and the messages before `end`, stopping at the first missing row. */
  private async read(conversationId: string, end: number): Promise<unknown[]> {
    const { rows } = await this.pool.query<{ seq: number; encoding: SealedEncoding; body: Buffer }>(
      `SELECT seq, encoding, body FROM transcript_messages
        WHERE conversation_id = $1 AND seq < $2 ORDER BY seq`,
      [conversationId, end],
    );
    const entries: unknown[] = [];
    for (const [i, row] of rows.entries()) {
      if (row.seq !== i + CONTEXT_SEQ) break;
      try {
        entries.push(await unseal(this.codec, row.encoding, row.body));
      } catch (err) {
        // A rotated-out codec key or a damaged row: the workflow's resend rewrites it.
        throw new TranscriptGapError(`transcript ${conversationId} row ${row.seq} cannot be read`, {
          cause: err,
        });
      }
    }
    return entries;
  }
}
