import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import {
  DefaultLogger,
  NativeConnection,
  Runtime,
  type Worker,
  type WorkerOptions,
} from '@temporalio/worker';
import type pg from 'pg';
import { inject } from 'vitest';
import type { OrderDeps } from '../../examples/order-ops/worker.js';
import { loadOrderConfig } from '../../examples/order-ops/config.js';
import { createPool } from '../../src/db/pool.js';
import type { Ledger } from '../../src/idempotency/ledger.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';
import { buildOrderDeps, createOrderWorker } from '../../examples/order-ops/worker.js';

let runtimeInstalled = false;

/** Real clients against the run's dev server and Postgres, plus a worker factory on a fresh task queue. */
export interface TestEnv {
  pool: pg.Pool;
  ledger: Ledger;
  /** The sandbox services (payments, SMTP, model) on ephemeral ports, state in the run's Postgres. */
  sandbox: Sandbox;
  deps: OrderDeps;
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

/** Options of {@link createTestEnv}; every field is optional and the defaults keep payloads plaintext. */
export interface TestEnvOptions {
  /**
   * A payload codec for the env's client and for every worker `startWorker` starts (as `npm start`
   * runs with encryption on). Default: none. A worker's own `dataConverter` override still wins.
   */
  codec?: PayloadCodec;
}

export async function createTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  if (!runtimeInstalled) {
    Runtime.install({ logger: new DefaultLogger('ERROR') });
    runtimeInstalled = true;
  }
  const address = inject('temporalAddress');
  const namespace = inject('namespace');
  const pool = createPool(inject('databaseUrl'), 8);
  const sandbox = await startSandbox({ pool });
  const { addresses } = sandbox;
  // Tests always talk to the sandbox, whatever the developer's environment says.
  const deps = buildOrderDeps(loadOrderConfig({}), pool, {
    paymentsUrl: addresses.payments.url,
    smtpUrl: addresses.smtp.url,
    emailLookupUrl: addresses.emailApi.url,
    modelBaseUrl: addresses.model.baseURL,
  });
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({
    connection,
    namespace,
    ...(options.codec ? { dataConverter: { payloadCodecs: [options.codec] } } : {}),
  });
  const taskQueue = `test-${randomUUID()}`;
  const bundle = { code: readFileSync(inject('workflowBundlePath'), 'utf8') };
  const workers: { worker: Worker; running: Promise<void> }[] = [];
  return {
    pool,
    ledger: deps.ledger,
    sandbox,
    deps,
    client,
    namespace,
    taskQueue,
    nativeConnection,
    async startWorker(overrides = {}) {
      const worker = await createOrderWorker({
        connection: nativeConnection,
        namespace,
        taskQueue: overrides.taskQueue ?? taskQueue,
        deps,
        workflowBundle: bundle,
        codec: options.codec,
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
      deps.downstream.mailer.close();
      await sandbox.stop();
      await pool.end();
    },
  };
}
