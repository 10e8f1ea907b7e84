import type pg from 'pg';

/** What `api_requests` knows of a key when a start claims it. */
export type KeyClaim =
  /** First sighting: this call recorded the key and starts the task. */
  | { kind: 'new' }
  /** Seen with this body; no start recorded yet (one is under way, or its caller crashed). */
  | { kind: 'claimed' }
  /** Seen with this body and started: answer the task, never start again. */
  | { kind: 'started'; firstRunId: string | null }
  /** Seen with another body. */
  | { kind: 'conflict'; fingerprint: string };

/** Records `key` with the request's fingerprint unless known; says what was known. */
export async function claimKey(pool: pg.Pool, key: string, fp: string): Promise<KeyClaim> {
  const inserted = await pool.query(
    'INSERT INTO api_requests (key, fingerprint, workflow_id) VALUES ($1, $2, $1) ON CONFLICT (key) DO NOTHING',
    [key, fp],
  );
  if (inserted.rowCount === 1) return { kind: 'new' };
  const { rows } = await pool.query<{ fingerprint: string; started: boolean; first_run_id: string | null }>(
    'SELECT fingerprint, started, first_run_id FROM api_requests WHERE key = $1',
    [key],
  );
  const row = rows[0];
  // Deleted between the two statements: nobody else holds the key now, so this call may start it.
  if (!row) return { kind: 'claimed' };
  if (row.fingerprint !== fp) return { kind: 'conflict', fingerprint: row.fingerprint };
  return row.started ? { kind: 'started', firstRunId: row.first_run_id } : { kind: 'claimed' };
}

/** Marks the key started by `runId`; the first recorded run stays (concurrent starts race here). */
export async function markStarted(pool: pg.Pool, key: string, runId: string | null): Promise<void> {
  await pool.query(
    'UPDATE api_requests SET started = true, first_run_id = COALESCE(first_run_id, $2) WHERE key = $1',
    [key, runId],
  );
}
