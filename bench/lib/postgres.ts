import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type pg from 'pg';
import { loadConfig } from '../../src/config.js';
import { freePort } from '../../src/dev/ports.js';
import { startEmbeddedPostgres } from '../../src/dev/postgres.js';

/** A bench's Postgres: where it is, how it was described, and how to stop it. */
export interface BenchDatabase {
  url: string;
  source: string;
  stop: () => Promise<void>;
}

/**
 * `DATABASE_URL` when set, else an embedded Postgres in a scratch dir, removed by `stop()`: with its
 * default durability (fsync and synchronous_commit on), or without it when `fast`.
 */
export async function benchDatabase(options: { fast?: boolean } = {}): Promise<BenchDatabase> {
  const configured = loadConfig().databaseUrl;
  if (configured) return { url: configured, source: 'DATABASE_URL', stop: () => Promise.resolve() };
  const scratch = mkdtempSync(join(tmpdir(), 'onceflow-bench-'));
  // As root, Postgres runs as the postgres user, which must be able to enter the scratch dir.
  chmodSync(scratch, 0o755);
  const fast = options.fast === true;
  const pg = await startEmbeddedPostgres({
    dataDir: join(scratch, 'pg'),
    port: await freePort(),
    ephemeral: true,
    ...(fast ? { fast } : {}),
  });
  return {
    url: pg.url,
    source: `embedded PostgreSQL, ${fast ? 'fsync off' : 'default durability'}`,
    stop: async () => {
      await pg.stop();
      rmSync(scratch, { recursive: true, force: true });
    },
  };
}

/** The settings that decide what a commit costs, for the results file. */
export async function durabilitySettings(pool: pg.Pool) {
  const one = async (sql: string) => (await pool.query<Record<string, string>>(sql)).rows[0]!;
  return {
    version: (await one('SELECT version()')).version?.split(',')[0],
    fsync: (await one('SHOW fsync')).fsync,
    synchronousCommit: (await one('SHOW synchronous_commit')).synchronous_commit,
  };
}
