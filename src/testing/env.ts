import { randomUUID } from 'node:crypto';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { Client, Connection, type WorkflowStartOptions } from '@temporalio/client';
import type { PayloadCodec, Workflow, WorkflowResultType } from '@temporalio/common';
import { decodeFromPayloadsAtIndex } from '@temporalio/common/lib/internal-non-workflow/index.js';
import type { temporal } from '@temporalio/proto';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import type pg from 'pg';
import { loadConfig } from '../config.js';
import { migrate as applyMigrations } from '../db/migrate.js';
import { createPool } from '../db/pool.js';
import { startStack, type Stack } from '../dev/stack.js';
import { activityCalls } from '../history/activity-calls.js';
import { Ledger } from '../idempotency/ledger.js';
import { toLedgerRow, type LedgerRow, type RawRow } from '../idempotency/ledger-rows.js';
import { createWorker, onceflow, type OnceflowOptions } from '../worker.js';
import { startScriptedModel, type ScriptedModel } from './scripted-model.js';

/** Options of {@link createTestEnv}. Give `workflowsPath` or `workflowBundle`; everything else has a default. */
export interface TestEnvOptions {
  /**
   * Your workflows file (exporting your agents and sagas), bundled by each worker `startWorker`
   * creates, as `createWorker` in `onceflow/worker` does. Exactly one of this and `workflowBundle`.
   */
  workflowsPath?: string;
  /**
   * A pre-built bundle (`bundleWorkflowCode`), reused by every worker: bundle once in a global setup
   * when many test files or workers share the same workflows. Exactly one of this and `workflowsPath`.
   */
  workflowBundle?: { code: string };
  /** Your activities, registered next to the engine's on every worker. Default none. */
  activities?: object;
  /**
   * An existing Temporal frontend (`host:port`), e.g. a dev server your vitest global setup started.
   * Default: a `temporal server start-dev` of its own on a free port, in memory, with onceflow's search
   * attributes, stopped by `close()`. Starting one takes seconds: share one env per test file (or one
   * server per run through a global setup) rather than one per test.
   */
  temporalAddress?: string;
  /** The Temporal namespace. Default `default` (the namespace the env's own dev server has). */
  namespace?: string;
  /**
   * An existing Postgres for the ledger and onceflow's tables. Default: an embedded Postgres of its own on
   * a free port, data in a temp dir, stopped and removed by `close()` (seconds to start, like the server).
   */
  databaseUrl?: string;
  /**
   * Apply onceflow's migrations when the env is created (idempotent, under an advisory lock; workers do
   * not migrate again). Default true; `false` when a global setup migrated the database already.
   */
  migrate?: boolean;
  /**
   * A directory of scripted-model scenarios (`<name>.json`, chosen by the agent input's `scenario`):
   * starts `startScriptedModel({ scenariosDir })` on a free port (`env.model`) and gives the plugin an
   * Anthropic client pointed at it (SDK retries off). Default none.
   */
  scenariosDir?: string;
  /**
   * The Anthropic client model turns use; not together with `scenariosDir`. Default: the scripted
   * model's client with `scenariosDir`, else the plugin's default (built from the environment).
   */
  anthropic?: Anthropic;
  /**
   * A payload codec for the env's client and every worker (as `npm start` runs with encryption on).
   * The history helpers decode with it. Default none (plaintext).
   */
  codec?: PayloadCodec;
  /** The task queue of `startWorker` and `execute`. Default a fresh `test-<uuid>`. */
  taskQueue?: string;
  /** Extra `Worker.create` options for every worker (e.g. `{ maxCachedWorkflows: 0 }` to replay every task). */
  workerOptions?: Partial<WorkerOptions>;
  /**
   * More options of the onceflow plugin of every worker (`model`, `retentionDays`, `transcripts`, a
   * `ledger` of yours, which becomes `env.ledger` and is not closed by the env). `pool`, `codec`,
   * `anthropic` and `migrate` come from the env's own options.
   */
  plugin?: Omit<Partial<OnceflowOptions>, 'pool' | 'codec' | 'anthropic' | 'migrate'>;
}

/** Options of {@link TestEnv.execute}: Temporal's start options, the task queue defaulting to the env's. */
export type TestWorkflowOptions<W extends Workflow> = Omit<WorkflowStartOptions<W>, 'taskQueue'> & {
  taskQueue?: string;
};

/** What {@link createTestEnv} returns: real clients, a worker factory and history and ledger readers. */
export interface TestEnv {
  /** A Temporal client on the env's namespace, with the codec when one was given. */
  client: Client;
  /** Postgres of the ledger and onceflow's tables (8 connections). */
  pool: pg.Pool;
  /** The ledger every worker of this env records `effect()`s in: `get(key)`, `stats({ scope })`, …. */
  ledger: Ledger;
  taskQueue: string;
  namespace: string;
  /** The Temporal frontend in use (given, or the env's own dev server). */
  temporalAddress: string;
  /** The Postgres in use (given, or the env's own embedded one). */
  databaseUrl: string;
  /** The scripted model, when `scenariosDir` was given: its `baseURL` and `faults` (drop, 5xx, delay). */
  model: ScriptedModel | undefined;
  /**
   * Starts a worker: the onceflow plugin (the env's ledger, model client and codec), your workflows and
   * activities, on `overrides.taskQueue` (default the env's). `overrides` are applied last, over
   * `workerOptions`. It runs until you `shutdown()` it or `close()` the env. Each worker has its own
   * connection, so several may poll the same task queue (to stop one mid-task and let another finish).
   * A worker that fails while running rejects unobserved (your test runner reports it).
   */
  startWorker(overrides?: Partial<WorkerOptions>): Promise<Worker>;
  /**
   * Starts the workflow on the env's task queue (unless `options.taskQueue`) and waits for its result
   * (throwing `WorkflowFailedError` when it fails). Starts a worker first when none of this env runs
   * on that task queue.
   */
  execute<W extends Workflow>(
    workflow: W | string,
    options: TestWorkflowOptions<W>,
  ): Promise<WorkflowResultType<W>>;
  /**
   * The activity types the workflow called, in history order (engine activities included): scheduled
   * activities and local activities (recorded as markers) alike.
   */
  scheduledActivities(workflowId: string): Promise<string[]>;
  /**
   * The attempt number of each started activity of type `activityType`, in history order: `[1]` ran
   * once; `[2]` succeeded on its second attempt (history records only the last attempt's start, and a
   * local activity's marker the attempt that ended it).
   */
  attempts(workflowId: string, activityType: string): Promise<number[]>;
  /**
   * The results of the completed activities of type `activityType`, in history order, decoded with the
   * client's data converter (so with the codec too). An effect tool's activity returns
   * `{ outcome: 'executed' | 'replayed' | 'recovered', key, result }`.
   */
  activityResults<T = unknown>(workflowId: string, activityType: string): Promise<T[]>;
  /** The ledger rows of one task (`scope` is the workflow id for agents and sagas), oldest first. */
  effects(scope: string): Promise<LedgerRow[]>;
  /**
   * Stops what the env started, in reverse: its workers (draining them), connections, the scripted
   * model, the ledger's counters, the pool, and the dev server and Postgres if it started them, never
   * ones it was given. Every step runs even when one fails; the first failure is thrown at the end.
   * Calling it again returns the first call's promise.
   */
  close(): Promise<void>;
}

let runtimeInstalled = false;

/** Installs an SDK Runtime that logs errors only, once per process, unless one is installed already. */
function installQuietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
  } catch {
    // a Runtime is installed already (by the test file or an earlier env): keep it
  }
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/**
 * A test environment for your agents, as onceflow tests its own: a Temporal client, Postgres with the
 * ledger, workers running the onceflow plugin with your workflows and activities on a task queue of the
 * test's own, optionally the scripted model, and readers of history and the ledger for exactly-once
 * assertions. Without `temporalAddress` / `databaseUrl` it starts a dev server / embedded Postgres of
 * its own (seconds: share one env per file, or start them once in a vitest global setup and pass them).
 * It also installs a quiet SDK Runtime (errors only) unless one is installed already.
 *
 * If creating the env fails, whatever it started is stopped before the error is thrown. Throws a
 * `TypeError` for options that cannot work together (neither or both of `workflowsPath` and
 * `workflowBundle`; `scenariosDir` with `anthropic`).
 */
export async function createTestEnv(options: TestEnvOptions): Promise<TestEnv> {
  if ((options.workflowsPath === undefined) === (options.workflowBundle === undefined)) {
    throw new TypeError('createTestEnv: give exactly one of workflowsPath and workflowBundle');
  }
  if (options.scenariosDir !== undefined && options.anthropic !== undefined) {
    throw new TypeError('createTestEnv: give scenariosDir (the scripted model) or anthropic, not both');
  }
  installQuietRuntime();

  const cleanups: (() => unknown)[] = [];
  const cleanup = (run: () => unknown) => cleanups.push(run);
  let closed: Promise<void> | undefined;
  const close = () =>
    (closed ??= (async () => {
      const failures: unknown[] = [];
      for (const run of cleanups.splice(0).reverse()) {
        try {
          await run();
        } catch (err) {
          failures.push(err);
        }
      }
      const [first] = failures;
      if (failures.length > 0) throw first instanceof Error ? first : new Error(String(first));
    })());

  try {
    const namespace = options.namespace ?? 'default';
    let temporalAddress = options.temporalAddress;
    let databaseUrl = options.databaseUrl;
    if (temporalAddress === undefined || databaseUrl === undefined) {
      const scratch = mkdtempSync(join(tmpdir(), 'onceflow-test-env-'));
      // As root, Postgres runs as the postgres user, which must be able to enter the scratch dir.
      chmodSync(scratch, 0o755);
      cleanup(() => rmSync(scratch, { recursive: true, force: true }));
      const stack: Stack = await startStack({
        mode: 'ephemeral',
        // Only what was not given is started; the developer's environment does not decide for tests.
        config: { ...loadConfig({}), temporalAddress, databaseUrl, namespace },
        scratchDir: scratch,
      });
      cleanup(stack.stop);
      temporalAddress = stack.temporalAddress;
      databaseUrl = stack.databaseUrl;
    }

    const pool = createPool(databaseUrl, 8, 'onceflow-test');
    cleanup(() => pool.end());
    if (options.migrate !== false) await applyMigrations(pool);
    const ledger = options.plugin?.ledger ?? new Ledger(pool);
    if (!options.plugin?.ledger) cleanup(() => ledger.close());

    let model: ScriptedModel | undefined;
    let anthropic = options.anthropic;
    if (options.scenariosDir !== undefined) {
      const scripted = await startScriptedModel({ scenariosDir: options.scenariosDir });
      model = scripted;
      cleanup(() => scripted.close());
      anthropic = new Anthropic({ baseURL: scripted.baseURL, apiKey: 'scripted', maxRetries: 0 });
    }

    const address = temporalAddress;
    const connection = await Connection.connect({ address });
    cleanup(() => connection.close());
    const client = new Client({
      connection,
      namespace,
      ...(options.codec ? { dataConverter: { payloadCodecs: [options.codec] } } : {}),
    });

    const taskQueue = options.taskQueue ?? `test-${randomUUID()}`;
    const workers: { worker: Worker; taskQueue: string }[] = [];

    const startWorker = async (overrides: Partial<WorkerOptions> = {}): Promise<Worker> => {
      if (closed) throw new Error('createTestEnv: startWorker after close()');
      const queue = overrides.taskQueue ?? taskQueue;
      const nativeConnection = await NativeConnection.connect({ address });
      let worker: Worker;
      try {
        worker = await createWorker({
          connection: nativeConnection,
          namespace,
          taskQueue: queue,
          onceflow: onceflow({
            ...options.plugin,
            pool,
            ledger,
            migrate: false, // the env migrated (or was told the database is migrated)
            codec: options.codec,
            ...(anthropic ? { anthropic } : {}),
          }),
          activities: options.activities ?? {},
          ...(options.workflowBundle
            ? { workflowBundle: options.workflowBundle }
            : { workflowsPath: options.workflowsPath! }),
          overrides: { ...options.workerOptions, ...overrides },
        });
      } catch (err) {
        await nativeConnection.close();
        throw err;
      }
      const running = worker.run();
      workers.push({ worker, taskQueue: queue });
      cleanup(async () => {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
        await nativeConnection.close();
      });
      return worker;
    };

    const history = async (workflowId: string): Promise<HistoryEvent[]> =>
      (await client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];

    return {
      client,
      pool,
      ledger,
      taskQueue,
      namespace,
      temporalAddress,
      databaseUrl,
      model,
      startWorker,
      async execute<W extends Workflow>(workflow: W | string, start: TestWorkflowOptions<W>) {
        const queue = start.taskQueue ?? taskQueue;
        if (!workers.some((w) => w.taskQueue === queue && w.worker.getState() === 'RUNNING')) {
          await startWorker({ taskQueue: queue });
        }
        return client.workflow.execute(workflow, { ...start, taskQueue: queue } as WorkflowStartOptions<W>);
      },
      async scheduledActivities(workflowId) {
        return activityCalls(await history(workflowId)).map((c) => c.type);
      },
      async attempts(workflowId, activityType) {
        return activityCalls(await history(workflowId))
          .filter((c) => c.type === activityType && c.attempt > 0)
          .map((c) => c.attempt);
      },
      async activityResults<T>(workflowId: string, activityType: string) {
        const converter = client.options.loadedDataConverter;
        const results: T[] = [];
        for (const c of activityCalls(await history(workflowId))) {
          if (c.type !== activityType || !c.result) continue;
          results.push(await decodeFromPayloadsAtIndex<T>(converter, 0, c.result));
        }
        return results;
      },
      async effects(scope) {
        const { rows } = await pool.query<RawRow>(
          'SELECT * FROM idempotency_ledger WHERE scope = $1 ORDER BY created_at, key',
          [scope],
        );
        return rows.map(toLedgerRow);
      },
      close,
    };
  } catch (err) {
    await close().catch(() => undefined);
    throw err;
  }
}
