import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import type pg from 'pg';
import { inject } from 'vitest';
import { createPool } from '../../src/db/pool.js';
import { createWorker } from '../../src/worker.js';

let runtimeInstalled = false;

/** Real clients against the run's dev server and Postgres, plus a worker factory on a fresh task queue. */
export interface TestEnv {
  pool: pg.Pool;
  client: Client;
  namespace: string;
  taskQueue: string;
  nativeConnection: NativeConnection;
  /**
   * Starts a worker on `overrides.taskQueue` (default: the env's task queue). One connection may hold
   * one worker per task queue, so a second worker in the same file needs its own queue.
   */
  startWorker(overrides?: Partial<WorkerOptions>): Promise<Worker>;
  close(): Promise<void>;
}

export async function createTestEnv(): Promise<TestEnv> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('WARN') });
    runtimeInstalled = true;
  }
  const address = inject('temporalAddress');
  const namespace = inject('namespace');
  const pool = createPool(inject('databaseUrl'), 8);
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection, namespace });
  const taskQueue = `test-${randomUUID()}`;
  const bundle = { code: readFileSync(inject('workflowBundlePath'), 'utf8') };
  const workers: { worker: Worker; running: Promise<void> }[] = [];
  return {
    pool,
    client,
    namespace,
    taskQueue,
    nativeConnection,
    async startWorker(overrides = {}) {
      const worker = await createWorker({
        connection: nativeConnection,
        namespace,
        taskQueue: overrides.taskQueue ?? taskQueue,
        pool,
        workflowBundle: bundle,
        overrides,
      });
      workers.push({ worker, running: worker.run() });
      return worker;
    },
    async close() {
      for (const { worker, running } of workers) {
        if (worker.getState() === 'RUNNING') worker.shutdown();
        await running.catch(() => undefined);
      }
      await nativeConnection.close();
      await connection.close();
      await pool.end();
    },
  };
}
