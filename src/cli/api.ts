import { startApi } from '../api/index.js';
import { resolveCodec } from '../codec/aes-gcm.js';
import { connectClient } from '../client.js';
import type { Config } from '../config.js';
import { createPool } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { ConfigError } from '../errors.js';
import type { TaskKind } from '../tasks/index.js';
import { temporalConnectionOptions } from '../temporal-connection.js';

/** `onceflow api`: the HTTP API alone, until SIGINT/SIGTERM. Listens on 0.0.0.0 in containers (API_HOST). */
export async function runApi(config: Config, tasks: readonly TaskKind[]): Promise<void> {
  if (!config.databaseUrl)
    throw new ConfigError('DATABASE_URL is required for a standalone API (npm start runs one)');
  const pool = createPool(config.databaseUrl, config.pgPoolSize, 'onceflow-api');
  await migrate(pool);
  // The workers' payload codec (ONCEFLOW_CODEC_KEY, else the data dir's key): without it the API would
  // start tasks with plaintext inputs and could not read their queries, results or the Web UI's payloads.
  const codec = resolveCodec(config.dataDir);
  const { client, close } = await connectClient(temporalConnectionOptions(config), config.namespace, codec);
  const api = await startApi({
    tasks,
    client,
    pool,
    taskQueue: config.taskQueue,
    uiUrl: config.temporalUiUrl,
    apiToken: config.apiToken,
    codec,
    host: process.env.API_HOST ?? '127.0.0.1',
    port: config.apiPort,
  });
  process.stdout.write(`onceflow api: listening on ${api.url}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await api.close();
  await close();
  await pool.end();
}
