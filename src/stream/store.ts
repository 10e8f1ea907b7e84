import type { PayloadCodec } from '@temporalio/common';
import type pg from 'pg';
import { deleteInBatches } from '../db/batches.js';
import { inTransaction } from '../db/pool.js';
import { seal, unseal, type SealedEncoding } from '../db/sealed.js';
import type { StreamEvent, StreamEventInput } from './events.js';

/** The Postgres channel `NOTIFY`ed with a task id when its stream grows. */
export const STREAM_CHANNEL = 'onceflow_task_stream';
const DAY_MS = 24 * 3600 * 1000;

/** Who wrote an event: a model turn (`<run id>/<activity id>`) and its attempt. */
export interface TurnAttempt {
  turn: string;
  attempt: number;
}

// Serializes the writers of one task (model turns, watching API processes) so that ids follow commit
// order within it. The second key keeps this lock apart from other users of hashtextextended.
const LOCK = 'pg_advisory_xact_lock(hashtextextended($1, 17))';

/**
 * A task's live stream in Postgres (`task_stream`): appended by model-turn activities and watching
 * API processes, read by `GET /tasks/:id/events` from any process, announced on {@link STREAM_CHANNEL}.
 * Bodies are sealed with the payload codec when there is one. Writes are best effort for callers: the
 * stream is a view of the run, history is its record.
 */
export class TaskStream {
  private readonly retentionMs: number;

  constructor(
    private readonly pool: pg.Pool,
    private readonly options: { codec?: PayloadCodec | undefined; retentionDays?: number } = {},
  ) {
    this.retentionMs = (options.retentionDays ?? 30) * DAY_MS;
  }

  /** The same stream, sealing what it writes and opening what it reads with `codec`. */
  withCodec(codec: PayloadCodec | undefined): TaskStream {
    return codec ? new TaskStream(this.pool, { ...this.options, codec }) : this;
  }

  /**
   * Appends `events` in order, in one statement. Events of a model turn carry `by` (but those marked
   * `unowned`): they are dropped when a later attempt of the same turn has written already (a zombie
   * attempt still streaming after its retry started). An event whose `dedupe` a live row holds is
   * dropped. Returns the ids written.
   */
  async publish(taskId: string, events: StreamEventInput[], by?: TurnAttempt): Promise<number[]> {
    if (events.length === 0) return [];
    const sealed = await Promise.all(events.map((e) => seal(this.options.codec, e.data)));
    const owner = (e: StreamEventInput) => (e.unowned ? undefined : by);
    const { rows } = await this.pool.query<{ id: string }>(
      `WITH lock AS MATERIALIZED (SELECT ${LOCK}),
       ins AS (
         INSERT INTO task_stream (task_id, kind, turn, attempt, dedupe, encoding, body)
         SELECT $1, e.kind, e.turn, e.attempt, e.dedupe, e.encoding, e.body
           FROM lock, unnest($2::text[], $3::int[], $4::text[], $5::text[], $6::text[], $7::bytea[])
                WITH ORDINALITY AS e(turn, attempt, kind, dedupe, encoding, body, ord)
          WHERE e.turn IS NULL OR NOT EXISTS (
                  SELECT 1 FROM task_stream s
                   WHERE s.task_id = $1 AND s.turn = e.turn AND s.attempt > e.attempt)
          ORDER BY e.ord
         ON CONFLICT (task_id, dedupe) WHERE dedupe IS NOT NULL AND NOT discarded DO NOTHING
         RETURNING id)
       SELECT id FROM ins, (SELECT pg_notify('${STREAM_CHANNEL}', $1)) AS n`,
      [
        taskId,
        events.map((e) => owner(e)?.turn ?? null),
        events.map((e) => owner(e)?.attempt ?? null),
        events.map((e) => e.kind),
        events.map((e) => e.dedupe ?? null),
        sealed.map((s) => s.encoding),
        sealed.map((s) => s.body),
      ],
    );
    return rows.map((r) => Number(r.id));
  }

  /**
   * Marks the rows of `by.turn`'s earlier attempts discarded and, when there were any, appends a
   * `text_discarded` event naming them, so a watcher drops what it showed. Returns the attempts.
   */
  async discardEarlierAttempts(taskId: string, by: TurnAttempt, turnNumber: number): Promise<number[]> {
    const data = await inTransaction(this.pool, async (client) => {
      await client.query(`SELECT ${LOCK}`, [taskId]);
      const { rows } = await client.query<{ attempt: number }>(
        `UPDATE task_stream SET discarded = true
          WHERE task_id = $1 AND turn = $2 AND attempt < $3 AND NOT discarded
          RETURNING attempt`,
        [taskId, by.turn, by.attempt],
      );
      const attempts = [...new Set(rows.map((r) => r.attempt))].sort((a, b) => a - b);
      if (attempts.length === 0) return attempts;
      const event = { turn: turnNumber, attempts };
      const { encoding, body } = await seal(this.options.codec, event);
      await client.query(
        `INSERT INTO task_stream (task_id, kind, turn, attempt, encoding, body)
         VALUES ($1, 'text_discarded', $2, $3, $4, $5)`,
        [taskId, by.turn, by.attempt, encoding, body],
      );
      await client.query(`SELECT pg_notify('${STREAM_CHANNEL}', $1)`, [taskId]);
      return attempts;
    });
    return data;
  }

  /** The live events of `taskId` after id `after`, oldest first, at most `limit`. */
  async read(taskId: string, after: number, limit = 500): Promise<StreamEvent[]> {
    const { rows } = await this.pool.query<{
      id: string;
      kind: StreamEvent['kind'];
      encoding: SealedEncoding;
      body: Buffer;
    }>(
      `SELECT id, kind, encoding, body FROM task_stream
        WHERE task_id = $1 AND id > $2 AND NOT discarded ORDER BY id LIMIT $3`,
      [taskId, after, limit],
    );
    return Promise.all(
      rows.map(
        async (r) =>
          ({
            id: Number(r.id),
            kind: r.kind,
            data: await unseal(this.options.codec, r.encoding, r.body),
          }) as StreamEvent,
      ),
    );
  }

  /** Deletes events older than the retention (default 30 days), in batches. Returns how many. */
  async prune(options: { batchSize?: number; now?: Date } = {}): Promise<number> {
    const before = new Date((options.now ?? new Date()).getTime() - this.retentionMs);
    return deleteInBatches(
      this.pool,
      `DELETE FROM task_stream WHERE id IN (SELECT id FROM task_stream WHERE created_at < $1 LIMIT $2)`,
      [before],
      options.batchSize ?? 5000,
    );
  }
}
