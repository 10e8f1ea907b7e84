import { fileURLToPath, pathToFileURL } from 'node:url';
import type { PayloadCodec } from '@temporalio/common';
import { DefaultLogger, NativeConnection, Runtime, Worker, type WorkerOptions } from '@temporalio/worker';
import { existsSync, readFileSync } from 'node:fs';
import type pg from 'pg';
import { createActivities, type ActivityDeps } from './activities/index.js';
import { loadConfig, type Config } from './config.js';
import { createDownstreamClients, type SandboxEndpoints } from './downstream.js';
import { connectClient } from './client.js';
import { resolveCodec } from './codec/aes-gcm.js';
import { TranscriptStore } from './transcript/store.js';
import { Ledger } from './idempotency/ledger.js';
import { ensurePruneSchedule } from './schedules.js';
import { temporalConnectionOptions } from './temporal-connection.js';
import type { SandboxAddresses } from './sandbox/index.js';
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
  /** The clients activities use, built once by the caller. */
  deps: ActivityDeps;
  /** A pre-built bundle (tests build one per run); default: bundle {@link WORKFLOWS_PATH}. */
  workflowBundle?: { code: string };
  /** Payload codec (encryption) for everything this worker writes to history. */
  codec?: PayloadCodec | undefined;
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
    activities: createActivities({
      ...options.deps,
      // Stored transcripts are encrypted with the key that encrypts history.
      transcripts: (options.deps.transcripts ?? new TranscriptStore(options.deps.pool)).withCodec(
        options.codec,
      ),
    }),
    ...(options.codec ? { dataConverter: { payloadCodecs: [options.codec] } } : {}),
    ...options.overrides,
  });
}

/** Reads the sandbox addresses `npm start` wrote, if any; undefined when the file is absent. */
export function readSandboxEndpoints(file: string): SandboxEndpoints | undefined {
  if (!existsSync(file)) return undefined;
  const a = JSON.parse(readFileSync(file, 'utf8')) as SandboxAddresses;
  return {
    paymentsUrl: a.payments.url,
    smtpUrl: a.smtp.url,
    emailLookupUrl: a.emailApi.url,
    modelBaseUrl: a.model.baseURL,
  };
}

/** Builds the clients activities use, once per process. */
export function buildActivityDeps(
  config: Config,
  pool: pg.Pool,
  sandbox: SandboxEndpoints | undefined,
): ActivityDeps {
  const retentionMs = config.ledgerRetentionDays * 24 * 3600 * 1000;
  return {
    pool,
    ledger: new Ledger(pool, { retentionMs }),
    transcripts: new TranscriptStore(pool, { retentionMs }),
    downstream: createDownstreamClients(config, sandbox),
  };
}

/**
 * Runs a worker against `TEMPORAL_ADDRESS` (default localhost:7233) and `DATABASE_URL` until
 * SIGINT/SIGTERM, then drains in-flight tasks and closes the pool.
 */
export async function main(): Promise<void> {
  const config = loadConfig();
  Runtime.install({
    logger: new DefaultLogger('WARN'),
    ...(config.metricsPort !== undefined
      ? { telemetryOptions: { metrics: { prometheus: { bindAddress: `0.0.0.0:${config.metricsPort}` } } } }
      : {}),
  });
  if (!config.databaseUrl)
    throw new ConfigError(
      'DATABASE_URL is required to run a standalone worker (npm start runs an embedded one)',
    );
  const pool = createPool(config.databaseUrl, config.pgPoolSize, 'onceflow-worker');
  await migrate(pool);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const deps = buildActivityDeps(config, pool, readSandboxEndpoints(config.sandboxFile));
  const codec = resolveCodec(config.dataDir);
  const admin = await connectClient(temporalConnectionOptions(config), config.namespace, codec);
  await ensurePruneSchedule(admin.client, {
    taskQueue: config.taskQueue,
    retentionDays: config.ledgerRetentionDays,
    maxTaskDays: config.taskMaxDays,
  }).finally(() => admin.close());
  try {
    const worker = await createWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      deps,
      codec,
      overrides: {
        ...(config.workerMaxConcurrentActivities !== undefined
          ? { maxConcurrentActivityTaskExecutions: config.workerMaxConcurrentActivities }
          : {}),
        ...(config.workerMaxCachedWorkflows !== undefined
          ? { maxCachedWorkflows: config.workerMaxCachedWorkflows }
          : {}),
      },
    });
    const running = worker.run();
    console.log(
      `onceflow worker: polling task queue "${config.taskQueue}" on ${config.temporalAddress ?? 'localhost:7233'}`,
    );
    await running;
  } finally {
    await connection.close();
    await deps.ledger.close(); // flushes the buffered replay/conflict counters
    deps.downstream.mailer.close();
    await pool.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(`onceflow worker: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
