/**
 * The travel example's worker: the onceflow plugin plus the travel workflows and activities. Run it
 * standalone with `npx tsx examples/travel-booking/worker.ts` (`TEMPORAL_ADDRESS`, `DATABASE_URL`,
 * `TRAVEL_API_URL`; without `TRAVEL_API_URL` it starts the reservations sandbox on a free port).
 */
import { pathToFileURL } from 'node:url';
import type Anthropic from '@anthropic-ai/sdk';
import type { PayloadCodec } from '@temporalio/common';
import { NativeConnection, type Worker, type WorkerOptions } from '@temporalio/worker';
import { ConfigError } from 'onceflow';
import type { Ledger } from 'onceflow/activity';
import { temporalConnectionOptions } from 'onceflow/client';
import { createPool, createWorker, loadConfig, migrate, onceflow } from 'onceflow/worker';
import type pg from 'pg';
import { createTravelActivities } from './activities.js';
import { createTravelClient, startTravelSandbox, type TravelClient } from './sandbox/index.js';

const ext = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** The example's workflows file, as its worker bundles it (source here, `.js` when compiled). */
export const WORKFLOWS_PATH = new URL(`./workflows${ext}`, import.meta.url).pathname;

/** The scripted model's scenarios of this example (`startScriptedModel({ scenariosDir })`). */
export const SCENARIOS_DIR = new URL('./scenarios/', import.meta.url).pathname;

/** Options of {@link createTravelWorker}. */
export interface CreateTravelWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  /** Postgres of the ledger. */
  pool: pg.Pool;
  /** A client of the reservations API (`createTravelClient(url)`). */
  travel: TravelClient;
  /** The model client; default from the environment (`ANTHROPIC_API_KEY` or `ANTHROPIC_BASE_URL`). */
  anthropic?: Anthropic;
  /** A ledger to share (tests read it); default one on `pool`. */
  ledger?: Ledger;
  codec?: PayloadCodec | undefined;
  /** Apply onceflow's migrations when the worker is created; default true. */
  migrate?: boolean;
  /** A pre-built bundle; default: bundle {@link WORKFLOWS_PATH}. */
  workflowBundle?: { code: string };
  overrides?: Partial<WorkerOptions>;
}

/** A worker for the travel example: the onceflow plugin, the travel workflows and activities. */
export async function createTravelWorker(options: CreateTravelWorkerOptions): Promise<Worker> {
  const plugin = onceflow({
    pool: options.pool,
    ...(options.anthropic ? { anthropic: options.anthropic } : {}),
    ...(options.ledger ? { ledger: options.ledger } : {}),
    ...(options.migrate === false ? { migrate: false } : {}),
    codec: options.codec,
  });
  return createWorker({
    connection: options.connection,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    taskQueue: options.taskQueue,
    onceflow: plugin,
    activities: createTravelActivities(options.travel),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    ...(options.overrides ? { overrides: options.overrides } : {}),
  });
}

/** Runs a travel worker until SIGINT/SIGTERM, then drains in-flight tasks. */
export async function main(): Promise<void> {
  const config = loadConfig();
  if (!config.databaseUrl) throw new ConfigError('DATABASE_URL is required to run the travel worker');
  const pool = createPool(config.databaseUrl, config.pgPoolSize, 'onceflow-travel-worker');
  await migrate(pool);
  const sandbox = process.env.TRAVEL_API_URL ? undefined : await startTravelSandbox();
  const travelUrl = process.env.TRAVEL_API_URL ?? sandbox!.url;
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  try {
    const worker = await createTravelWorker({
      connection,
      namespace: config.namespace,
      taskQueue: config.taskQueue,
      pool,
      travel: createTravelClient(travelUrl),
      migrate: false,
    });
    const running = worker.run();
    console.log(`travel worker: task queue "${config.taskQueue}", reservations API ${travelUrl}`);
    await running;
  } finally {
    await connection.close();
    await sandbox?.close();
    await pool.end();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  main().catch((err: unknown) => {
    console.error(`travel worker: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
