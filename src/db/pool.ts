import pg from 'pg';

/**
 * One pool per process (DBOS habit). `size` defaults to `PG_POOL_SIZE` via the config;
 * `applicationName` shows in `pg_stat_activity` (the chaos run kills worker connections by it).
 */
export function createPool(connectionString: string, size = 10, applicationName = 'onceflow'): pg.Pool {
  const pool = new pg.Pool({
    connectionString,
    max: size,
    idleTimeoutMillis: 30_000,
    application_name: applicationName,
  });
  // An idle client losing its connection (server restart, pg_terminate_backend) must not crash the process.
  pool.on('error', () => undefined);
  return pool;
}

/** Runs `fn` in one transaction on one client: BEGIN, COMMIT on success, ROLLBACK on any error. */
export async function inTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (err) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    client.release();
  }
}
