/**
 * `onceflow/worker`: the Temporal worker plugin. Add it to your own worker:
 *
 * ```ts
 * const worker = await Worker.create({
 *   plugins: [onceflow({ pool })],
 *   workflowsPath, activities: { ...yourActivities }, taskQueue, connection,
 * });
 * ```
 */
import type Anthropic from '@anthropic-ai/sdk';
import type { PayloadCodec } from '@temporalio/common';
import {
  Worker,
  type NativeConnection,
  type WorkerOptions,
  type WorkerPlugin,
  type ReplayWorkerOptions,
} from '@temporalio/worker';
import type pg from 'pg';
import { createEngineActivities, type EngineActivities } from './activities/engine.js';
import { ensureSearchAttributes } from './client.js';
import { onceflowActivityInterceptor } from './activities/interceptor.js';
import { loadConfig } from './config.js';
import { migrate } from './db/migrate.js';
import { sourceBundlerOptions } from './dev/source-entries.js';
import { createModelClient } from './model-client.js';
import { Ledger } from './idempotency/ledger.js';
import { createMcpActivities, type McpActivities, type McpServerResolver } from './mcp/activities.js';
import { McpConnections, type McpConnectionsOptions } from './mcp/connections.js';
import type { McpServerSpec } from './mcp/server-spec.js';
import { TaskStream } from './stream/store.js';
import { TranscriptStore } from './transcript/store.js';

const DAY_MS = 24 * 3600 * 1000;

/** Options of {@link onceflow}. Everything but `pool` has a default. */
export interface OnceflowOptions {
  /** Postgres for the ledger, stored transcripts, live task streams and `task_events`. */
  pool: pg.Pool;
  /**
   * The Anthropic client model turns use. Default: built from the environment — the real API with
   * `ANTHROPIC_API_KEY`, or `ANTHROPIC_BASE_URL` (the sandbox model); its SDK retries are off, so
   * Temporal owns retries and their history.
   */
  anthropic?: Anthropic;
  /** Model name and `max_tokens` for agents that set none. Default `ANTHROPIC_MODEL`, `ANTHROPIC_MAX_TOKENS`. */
  model?: { model?: string; maxTokens?: number };
  /**
   * Encrypts everything this worker writes to history, and stored transcripts, with this codec.
   * Default: none (plaintext). Use the same codec on your clients (`onceflowClient` in `onceflow/client`).
   */
  codec?: PayloadCodec | undefined;
  /** Days ledger rows and stored transcripts are kept (longer than your longest task). Default 30. */
  retentionDays?: number;
  /** Apply onceflow's Postgres migrations when a worker is created. Default true. */
  migrate?: boolean;
  /**
   * Register onceflow's search attributes (`OnceflowStatus`, `OnceflowSagaState`, …) in the worker's
   * namespace when missing; workflows upsert them. Default true; turn off where the worker may not
   * call the operator API (Temporal Cloud: add them with `tcld` or the UI once instead).
   */
  registerSearchAttributes?: boolean;
  /** A ledger to share (tests); default one on `pool`. */
  ledger?: Ledger;
  /** A transcript store to share; default one on `pool`. */
  transcripts?: TranscriptStore;
  /**
   * The MCP servers agents may take tools from (`defineAgent({ mcp: [mcpServer({ server })] })`), by
   * name: how to reach each (Streamable HTTP URL and headers, or a stdio command), or a resolver. They
   * live on the worker, not in the agent, so URLs and credentials stay out of workflow history and
   * differ per environment. Default none: an agent that names a server fails at start with
   * `MCP_SERVER_CONFIG`.
   */
  mcp?: readonly McpServerSpec[] | McpServerResolver;
  /** Options of the worker's MCP connections (client info, timeouts, listing cache). */
  mcpConnections?: McpConnectionsOptions;
}

/**
 * The onceflow worker plugin: registers the engine's activities (model turns, ledger reconciliation
 * and pruning, `recordEvent`) next to yours, wraps every activity so `effect()` finds the ledger and
 * long activities heartbeat, and adds the payload codec. Your workflows file exports your agents and
 * sagas (and `pruneLedgerWorkflow` if you schedule pruning). An activity name of yours that collides
 * with an engine activity is refused when the worker is created.
 */
export class OnceflowPlugin implements WorkerPlugin {
  readonly name = 'onceflow';
  /** The ledger every `effect()` of this worker records in. */
  readonly ledger: Ledger;
  /** The engine's activities, as registered. */
  readonly activities: EngineActivities & McpActivities;
  /** The worker's MCP clients, one per server, opened on first use and closed when the worker stops. */
  readonly mcpConnections: McpConnections;
  private readonly options: OnceflowOptions;
  private running = 0;

  constructor(options: OnceflowOptions) {
    this.options = options;
    const config = loadConfig();
    const retentionMs = (options.retentionDays ?? config.ledgerRetentionDays) * DAY_MS;
    this.ledger = options.ledger ?? new Ledger(options.pool, { retentionMs });
    // Stored transcripts are encrypted with the key that encrypts history.
    const transcripts = (options.transcripts ?? new TranscriptStore(options.pool, { retentionMs })).withCodec(
      options.codec,
    );
    const retentionDays = options.retentionDays ?? config.ledgerRetentionDays;
    this.mcpConnections = new McpConnections(options.mcpConnections);
    const engine = createEngineActivities({
      pool: options.pool,
      ledger: this.ledger,
      transcripts,
      // Streamed model text is sealed like transcripts: Postgres holds no more plaintext than history.
      stream: new TaskStream(options.pool, { retentionDays }).withCodec(options.codec),
      anthropic: options.anthropic ?? createModelClient(config),
      model: {
        model: options.model?.model ?? config.anthropicModel,
        maxTokens: options.model?.maxTokens ?? config.anthropicMaxTokens,
      },
    });
    const mcp = createMcpActivities(options.mcp ?? [], this.mcpConnections, { ledger: this.ledger });
    this.activities = { ...engine, ...mcp };
  }

  async configureWorker(options: WorkerOptions): Promise<WorkerOptions> {
    if (this.options.migrate !== false) await migrate(this.options.pool);
    if (this.options.registerSearchAttributes !== false && options.connection) {
      const namespace = options.namespace ?? 'default';
      await ensureSearchAttributes(options.connection, namespace).catch((err: unknown) =>
        // Not fatal here: a namespace that already has them works; one that lacks them fails its
        // first workflow task with the server's message, which names the attribute.
        console.warn(
          `onceflow plugin: could not check search attributes in ${namespace}: ${err instanceof Error ? err.message : String(err)}`,
        ),
      );
    }
    const theirs = (options.activities ?? {}) as Record<string, unknown>;
    const clash = Object.keys(this.activities).filter((name) => name in theirs);
    if (clash.length > 0)
      throw new TypeError(`onceflow plugin: activity names already taken by the engine: ${clash.join(', ')}`);
    const codecs = options.dataConverter?.payloadCodecs ?? [];
    return {
      ...options,
      activities: { ...this.activities, ...theirs },
      interceptors: {
        ...options.interceptors,
        activity: [...(options.interceptors?.activity ?? []), onceflowActivityInterceptor(this.ledger)],
      },
      ...(this.options.codec
        ? { dataConverter: { ...options.dataConverter, payloadCodecs: [...codecs, this.options.codec] } }
        : {}),
    };
  }

  configureReplayWorker(options: ReplayWorkerOptions): ReplayWorkerOptions {
    return options;
  }

  async runWorker(worker: Worker, next: (w: Worker) => Promise<void>): Promise<void> {
    this.running++;
    try {
      await next(worker);
    } finally {
      await this.ledger.flush(); // the buffered replay/conflict counters
      // stdio servers exit with the last worker that shares this plugin
      if (--this.running === 0) await this.mcpConnections.close();
    }
  }
}

/** The onceflow worker plugin; see {@link OnceflowPlugin}. */
export function onceflow(options: OnceflowOptions): OnceflowPlugin {
  return new OnceflowPlugin(options);
}

/** Options of {@link createWorker}. */
export interface CreateWorkerOptions {
  connection: NativeConnection;
  namespace?: string;
  taskQueue: string;
  /** The plugin, or its options. */
  onceflow: OnceflowPlugin | OnceflowOptions;
  /** Your activities. */
  activities: object;
  /** Your workflows file; or `workflowBundle`, pre-built. */
  workflowsPath?: string;
  workflowBundle?: { code: string };
  /** Passed through; tests use `maxCachedWorkflows: 0` to force replay on every task. */
  overrides?: Partial<WorkerOptions>;
}

/** `Worker.create` with the onceflow plugin: the short way to a worker. */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const plugin = options.onceflow instanceof OnceflowPlugin ? options.onceflow : onceflow(options.onceflow);
  return Worker.create({
    connection: options.connection,
    ...(options.namespace ? { namespace: options.namespace } : {}),
    taskQueue: options.taskQueue,
    plugins: [plugin],
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : options.workflowsPath
        ? { workflowsPath: options.workflowsPath, bundlerOptions: sourceBundlerOptions() }
        : {}),
    activities: options.activities,
    ...options.overrides,
  });
}

export type { EngineActivities } from './activities/engine.js';
export {
  createMcpActivities,
  type McpActivities,
  type McpServerResolver,
  type McpUndoResult,
} from './mcp/activities.js';
export { callMcpTool, type McpCallResult, type McpToolResult } from './mcp/call.js';
export { McpConnections, type McpConnectionsOptions } from './mcp/connections.js';
export type { McpHttpTransportSpec, McpServerSpec, McpStdioTransportSpec } from './mcp/server-spec.js';
export { INTENT_KEY_META, REPLAYED_META } from './mcp/meta.js';
/**
 * Applies ordered `NNN_name.sql` files once each: onceflow's own by default (the plugin does, unless
 * `migrate: false`), or your application's with `{ dir, table }` (its own record table).
 */
export { migrate, type MigrationSet } from './db/migrate.js';
export { createPool } from './db/pool.js';
export { envString, envUrl, loadConfig, type Config } from './config.js';
