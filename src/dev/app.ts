import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.js';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { NativeConnection, Worker } from '@temporalio/worker';
import type pg from 'pg';
import type { Config } from '../config.js';
import type { SandboxEndpoints } from '../sandbox/index.js';
import type { TaskKind } from '../tasks/kinds.js';

/** What the embedded default gives an app's worker. */
export interface DevWorkerContext {
  connection: NativeConnection;
  namespace: string;
  taskQueue: string;
  pool: pg.Pool;
  sandbox: SandboxEndpoints;
  codec: PayloadCodec | undefined;
  config: Config;
}

/** A running app worker, as `npm start` holds it. */
export interface DevWorker {
  worker: Worker;
  /** Where its clients point, one line each, for the start-up log. */
  describe: string[];
  /** Closes what the app opened besides the worker (clients, counters). */
  close(): Promise<void>;
}

/**
 * What `onceflow start` runs on the embedded stack: a worker with the app's workflows and
 * activities, seed data, and a first task to show. `--app <module>` names a module whose default
 * export is a `DevApp`; without it, the order example of this repository.
 */
export interface DevApp {
  name: string;
  /** The task kinds its API starts (`POST /tasks`). */
  tasks: readonly TaskKind[];
  /** Inserts demo data the app needs (idempotent). */
  seed?(pool: pg.Pool): Promise<void>;
  startWorker(ctx: DevWorkerContext): Promise<DevWorker>;
  /** Runs a demo task on a started stack and logs what it did; returns its workflow and run IDs. */
  demo?(ctx: {
    client: Client;
    taskQueue: string;
    log: (line: string) => void;
  }): Promise<{ workflowId: string; runId: string }>;
}

/** The app `onceflow start` runs when none is named: this repository's order example. */
export const DEFAULT_APP = new URL('../../examples/order-ops/dev-app.ts', import.meta.url).href;

/** The workflows file `onceflow replay` replays against when none is named: the order example's. */
export const DEFAULT_WORKFLOWS = fileURLToPath(
  new URL('../../examples/order-ops/workflows.ts', import.meta.url),
);

/** The task kinds `onceflow run` and `onceflow api` start when no `--tasks` module is named: the order example's. */
export const DEFAULT_TASKS = new URL('../../examples/order-ops/tasks.ts', import.meta.url).href;

function moduleUrl(module: string): string {
  return /^[a-z]+:/.test(module) ? module : new URL(module, `file://${process.cwd()}/`).href;
}

/**
 * Loads the task kinds of a module (a path or URL): its `tasks` export, else its default export, an
 * array of `defineTask` / `agentTask` kinds.
 */
export async function loadTasks(module: string = DEFAULT_TASKS): Promise<readonly TaskKind[]> {
  if (module === DEFAULT_TASKS && !existsSync(fileURLToPath(module)))
    throw new ConfigError('--tasks <module> is required: name the module that exports your task kinds');
  const loaded = (await import(moduleUrl(module))) as { tasks?: unknown; default?: unknown };
  const tasks = loaded.tasks ?? loaded.default;
  const valid =
    Array.isArray(tasks) &&
    tasks.length > 0 &&
    tasks.every((k) => typeof (k as Partial<TaskKind>).workflowType === 'string');
  if (!valid)
    throw new TypeError(
      `${module}: export \`tasks\` (or a default) as an array of defineTask/agentTask kinds`,
    );
  return tasks as readonly TaskKind[];
}

/** Loads a `DevApp` module (a path or URL); its default export is the app. */
export async function loadDevApp(module: string = DEFAULT_APP): Promise<DevApp> {
  const loaded = (await import(moduleUrl(module))) as { default?: DevApp };
  if (!loaded.default?.startWorker) throw new TypeError(`${module}: its default export is not a DevApp`);
  return loaded.default;
}
