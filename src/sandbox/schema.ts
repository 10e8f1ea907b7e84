import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { migrate } from '../db/migrate.js';

const MIGRATIONS = fileURLToPath(new URL('./migrations/', import.meta.url));

/**
 * Creates or updates the `sandbox` schema holding the sandbox services' state (its own migration set,
 * recorded in `sandbox.schema_migrations`). Safe to run from several processes at once.
 */
export async function migrateSandbox(pool: pg.Pool): Promise<void> {
  await pool.query('CREATE SCHEMA IF NOT EXISTS sandbox').catch(() => undefined);
  await migrate(pool, { dir: MIGRATIONS, table: 'sandbox.schema_migrations' });
}
