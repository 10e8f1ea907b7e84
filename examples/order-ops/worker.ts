/**
 * The order example's worker: the onceflow plugin plus the example's workflows and activities. Run
 * it standalone with `npm run worker` (`TEMPORAL_ADDRESS`, `DATABASE_URL`), or let `npm start` run it.
 */
import { pathToFileURL } from 'node:url';
import type { PayloadCodec } from '@temporalio/common';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import { ConfigError } from 'onceflow';
import { connectClient, ensurePruneSchedule, resolveCodec, temporalConnectionOptions } from 'onceflow/client';
import { readSandboxEndpoints, type SandboxEndpoints } from 'onceflow/testing';
import {
  createPool,
  createWorker,
  migrate,
  onceflow,
  type McpServerSpec,
  type OnceflowPlugin,
} from 'onceflow/worker';
import { Ledger } from 'onceflow/activity';
import type pg from 'pg';
import { createOrderActivities } from './activities/index.js';
import { loadOrderConfig, type OrderConfig } from './config.js';
import { migrateOrderTables } from './db.js';
import { createDownstreamClients, type OrderDownstream } from './downstream.js';

/** The example's workflows file, as its worker bundles it (source here, `.js` when compiled). */
export const WORKFLOWS_PATH = new URL(
  `./workflows${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url,
).pathname;

/** The clients the example's worker builds once per process. */
export interface OrderDeps {
  pool: pg.Pool;
  /** The ledger the plugin records in (shared, so tests can read it). */
  ledger: Ledger;
  downstream: OrderDownstream;
}

/** Builds the example's clients from its configuration and, when they run, the sandboxes. */
export function buildOrderDeps(
  config: OrderConfig,
  pool: pg.Pool,
  sandbox: SandboxEndpoints | undefined,
): OrderDeps {
  const retentionMs = config.ledgerRetentionDays * 24 * 3600 * 1000;
  return {
    pool,
    ledger: new Ledger(pool, { retentionMs }),
    downstream: createDownstreamClients(config, sandbox),
  };
}

/** The MCP servers the example's agents use, as the plugin's `mcp` option takes them. */
export function orderMcpServers(deps: OrderDeps): McpServerSpec[] {
  return deps.downstream.supportDesk ? [deps.downstream.supportDesk] : [];
}

/** Options of {@link createOrderWorker}. */
export interface CreateOrderWorkerOptions {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  deps: OrderDeps;
  /** A pre-built bundle (tests build one per run); default: bundle {@link WORKFLOWS_PATH}. */
  workflowBundle?: { code: string };
  codec?: PayloadCodec | undefined;
  overrides?: Partial<WorkerOptions>;
}

/** A worker for the order example: the onceflow plugin, its workflows and its activities. */
export async function createOrderWorker(options: CreateOrderWorkerOptions): Promise<Worker> {
  const { deps } = options;
  const plugin: OnceflowPlugin = onceflow({
    pool: deps.pool,
    ledger: deps.ledger,
    anthropic: deps.downstream.anthropic,
    model: { model: deps.downstream.model, maxTokens: deps.downstream.maxTokens },
    codec: options.codec,
    migrate: false,
    mcp: orderMcpServers(deps),
  });
  return createWorker({
    connection: options.connection,
    namespace: options.namespace,
    taskQueue: options.taskQueue,
    onceflow: plugin,
    activities: createOrderActivities(deps),
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH }),
    ...(options.overrides ? { overrides: options.overrides } : {}),
  });
}

/**
 * Runs a worker against `TEMPORAL_ADDRESS` (default localhost:7233) and `DATABASE_URL` until
 * SIGINT/SIGTERM, then drains in-flight tasks and closes the pool.
 */
export async function main(): Promise<void> {
  const config = loadOrderConfig();
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
  await migrateOrderTables(pool);
  const connection = await NativeConnection.connect(temporalConnectionOptions(config));
  const deps = buildOrderDeps(config, pool, readSandboxEndpoints(config.sandboxFile));
  const codec = resolveCodec(config.dataDir);
  const admin = await connectClient(temporalConnectionOptions(config), config.namespace, codec);
  await ensurePruneSchedule(admin.client, {
    taskQueue: config.taskQueue,
    retentionDays: config.ledgerRetentionDays,
    maxTaskDays: config.taskMaxDays,
  }).finally(() => admin.close());
  try {
    const worker = await createOrderWorker({
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
