import { Client, Connection } from '@temporalio/client';
import type pg from 'pg';
import { resolveCodec } from '../codec/aes-gcm.js';
import { loadConfig, type Config } from '../config.js';
import { createPool } from '../db/pool.js';
import { embeddedDatabaseUrl } from '../dev/postgres.js';
import { OnceflowError } from '../errors.js';
import { temporalConnectionOptions } from '../temporal-connection.js';

/** An error as the one line a user sees: `CODE: message` for onceflow's errors. */
export function errorLine(err: unknown): string {
  const message =
    err instanceof OnceflowError
      ? `${err.code}: ${err.message}`
      : err instanceof Error
        ? err.message
        : String(err);
  return message.split('\n')[0] ?? message;
}

/** Output mode shared by every command. */
export interface Output {
  json: boolean;
}

/** What a command needs; opened lazily, closed by {@link withContext}. */
export interface CliContext {
  config: Config;
  client: () => Promise<Client>;
  pool: () => pg.Pool;
  print: (human: string, json: unknown) => void;
}

/**
 * Runs a command with a Temporal client (TEMPORAL_ADDRESS, default localhost:7233: the `npm start`
 * dev server) and a pool (DATABASE_URL, default the embedded Postgres of `npm start`); errors become
 * one line and exit code 1.
 */
export async function withContext(
  output: Output,
  fn: (ctx: CliContext) => Promise<boolean | void>,
): Promise<void> {
  const config = loadConfig();
  let connection: Connection | undefined;
  let pool: pg.Pool | undefined;
  const ctx: CliContext = {
    config,
    client: async () => {
      connection ??= await Connection.connect(
        temporalConnectionOptions(config, config.temporalAddress ?? `localhost:${config.temporalPort}`),
      );
      const codec = resolveCodec(config.dataDir);
      return new Client({
        connection,
        namespace: config.namespace,
        ...(codec ? { dataConverter: { payloadCodecs: [codec] } } : {}),
      });
    },
    pool: () =>
      (pool ??= createPool(config.databaseUrl ?? embeddedDatabaseUrl(config.pgPort), 2, 'onceflow-cli')),
    print: (human, json) => process.stdout.write(`${output.json ? JSON.stringify(json) : human}\n`),
  };
  try {
    const ok = await fn(ctx);
    if (ok === false) process.exitCode = 1;
  } catch (err) {
    const message = errorLine(err);
    if (output.json) process.stdout.write(`${JSON.stringify({ error: message })}\n`);
    else process.stderr.write(`onceflow: ${message}\n`);
    process.exitCode = 1;
  } finally {
    await connection?.close().catch(() => undefined);
    await pool?.end().catch(() => undefined);
  }
}
