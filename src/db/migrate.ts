import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';

/** onceflow's own migrations. */
export const MIGRATIONS_DIR = fileURLToPath(new URL('./migrations/', import.meta.url));
// Any constant works; it only has to be the same for every process applying migrations.
const LOCK_ID = 727_001;

/** Where {@link migrate} reads files from and records what it applied. */
export interface MigrationSet {
  /** Directory of `NNN_name.sql` files. Default: {@link MIGRATIONS_DIR}. */
  dir: string;
  /** Table recording applied files. Default `schema_migrations`. */
  table: string;
}

/**
 * Applies the ordered `NNN_name.sql` files of a migration set that have not run yet, each in its own
 * transaction, under an advisory lock so concurrent starts apply each file once.
 * Returns the names applied now.
 */
export async function migrate(
  pool: pg.Pool,
  set: MigrationSet = { dir: MIGRATIONS_DIR, table: 'schema_migrations' },
): Promise<string[]> {
  if (!/^[a-z_][a-z0-9_.]*$/.test(set.table)) throw new Error(`invalid migration table name ${set.table}`);
  const dir = set.dir.endsWith('/') ? set.dir : `${set.dir}/`;
  const files = readdirSync(dir)
    .filter((f) => /^\d{3}_[\w-]+\.sql$/.test(f))
    .sort();
  const client = await pool.connect();
  const applied: string[] = [];
  try {
    await client.query('SELECT pg_advisory_lock($1)', [LOCK_ID]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${set.table} (name text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Set(
      (await client.query<{ name: string }>(`SELECT name FROM ${set.table}`)).rows.map((r) => r.name),
    );
    for (const file of files) {
      if (done.has(file)) continue;
      const sql = readFileSync(dir + file, 'utf8');
      try {
        await client.query('BEGIN');
        await client.query(sql);
        await client.query(`INSERT INTO ${set.table} (name) VALUES ($1)`, [file]);
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK');
        throw new Error(`migration ${file} failed: ${err instanceof Error ? err.message : String(err)}`, {
          cause: err,
        });
      }
      applied.push(file);
    }
  } finally {
    await client.query('SELECT pg_advisory_unlock($1)', [LOCK_ID]).catch(() => undefined);
    client.release();
  }
  return applied;
}
