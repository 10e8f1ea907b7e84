import type pg from 'pg';

/** Input of {@link RecordsActivities.recordEvent}. */
export interface RecordEventInput {
  taskId: string;
  kind: string;
  detail?: Record<string, unknown>;
}

/** Activities that write onceflow's own Postgres tables. */
export function createRecordsActivities(pool: pg.Pool) {
  return {
    /** Appends one row to `task_events`; returns its id. */
    async recordEvent(input: RecordEventInput): Promise<{ id: number }> {
      const { rows } = await pool.query<{ id: string }>(
        'INSERT INTO task_events (task_id, kind, detail) VALUES ($1, $2, $3) RETURNING id',
        [input.taskId, input.kind, JSON.stringify(input.detail ?? {})],
      );
      return { id: Number(rows[0]?.id) };
    },
  };
}

export type RecordsActivities = ReturnType<typeof createRecordsActivities>;
