/**
 * The order example's test environment, built on onceflow's own `createTestEnv` (`onceflow/testing`)
 * as a user's suite would build it: the run's dev server and Postgres (vitest global setup), the
 * sandbox services, and the example's workers on a task queue of the test's own.
 */
import { readFileSync } from 'node:fs';
import type { Client } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import type { Worker, WorkerOptions } from '@temporalio/worker';
import { createTestEnv as createEngineEnv } from 'onceflow/testing';
import type pg from 'pg';
import { inject } from 'vitest';
import { createOrderActivities } from '../../examples/order-ops/activities/index.js';
import { loadOrderConfig } from '../../examples/order-ops/config.js';
import { buildOrderDeps, orderMcpServers, type OrderDeps } from '../../examples/order-ops/worker.js';
import { createPool } from '../../src/db/pool.js';
import type { Ledger } from '../../src/idempotency/ledger.js';
import type { McpServerSpec } from '../../src/mcp/server-spec.js';
import { startSandbox, type Sandbox } from '../../src/sandbox/index.js';

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
  /**
   * Starts a worker on `overrides.taskQueue` (default: the env's task queue), with its own connection;
   * it runs until `close()`.
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
  /** The workers' MCP servers. Default: the example's (the sandbox desk over Streamable HTTP). */
  mcp?: McpServerSpec[];
}

export async function createTestEnv(options: TestEnvOptions = {}): Promise<TestEnv> {
  const pool = createPool(inject('databaseUrl'), 8);
  const sandbox = await startSandbox({ pool });
  const { addresses } = sandbox;
  // Tests always talk to the sandbox, whatever the developer's environment says.
  const deps = buildOrderDeps(loadOrderConfig({}), pool, {
    paymentsUrl: addresses.payments.url,
    smtpUrl: addresses.smtp.url,
    emailLookupUrl: addresses.emailApi.url,
    modelBaseUrl: addresses.model.baseURL,
    mcpUrl: addresses.mcp.url,
  });
  const env = await createEngineEnv({
    temporalAddress: inject('temporalAddress'),
    namespace: inject('namespace'),
    databaseUrl: inject('databaseUrl'),
    migrate: false, // the global setup migrated the run's database
    workflowBundle: { code: readFileSync(inject('workflowBundlePath'), 'utf8') },
    activities: createOrderActivities(deps),
    anthropic: deps.downstream.anthropic,
    plugin: {
      ledger: deps.ledger,
      model: { model: deps.downstream.model, maxTokens: deps.downstream.maxTokens },
      mcp: options.mcp ?? orderMcpServers(deps),
    },
    ...(options.codec ? { codec: options.codec } : {}),
  });
  return {
    pool,
    ledger: deps.ledger,
    sandbox,
    deps,
    client: env.client,
    namespace: env.namespace,
    taskQueue: env.taskQueue,
    startWorker: (overrides) => env.startWorker(overrides),
    async close() {
      await env.close();
      deps.downstream.mailer.close();
      await deps.ledger.close();
      await sandbox.stop();
      await pool.end();
    },
  };
}
