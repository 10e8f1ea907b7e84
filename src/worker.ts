import { fileURLToPath, pathToFileURL } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import type pg from 'pg';
import { createActivities } from './activities/index.js';
import { loadConfig } from './config.js';
import { createPool } from './db/pool.js';
import { migrate } from './db/migrate.js';
import { ConfigError } from './errors.js';

/** Path of the workflow entry point the worker bundles. */
export const WORKFLOWS_PATH = fileURLToPath(new URL('./workflows/index.ts', import.meta.url));

/** Options of {@link createWorker}. */
export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: pg.Pool;
  /** A pre-built bundle (tests build one per run); default: bundle {@link WORKFLOWS_PATH}. */
  workflowBundle?: { code: string };
  /** Passed through; tests use `maxCachedWorkflows: 0` to force replay on every task. */
  overrides?: Partial<WorkerOptions>;
}

/** Creates a worker whose activities use the given clients (built once by the caller). */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  return Worker.create({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    activities: createActivities({ pool: options.pool }),
    ...options.overrides,
  });
}

/**
 * Runs a worker against `TEMPORAL_ADDRESS` (default localhost:7233) and `DATABASE_URL` until
 * SIGINT/SIGTERM, then drains in-flight tasks and closes the pool.
 */
export async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl)
    throw new ConfigError(
      'DATABASE_URL is required to run a standalone worker (npm start runs an embedded one)',
    );
  const pool = createPool(config.databaseUrl, config.pgPoolSize);
  await migrate(pool);
  const connection = await NativeConnection.connect({ address: config.temporalAddress ?? 'localhost:7233' });
  try {
    const worker = await createWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      pool,
    });
    await worker.run();
  } finally {
    await connection.close();
    await pool.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(`onceflow worker: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
