import { sourceBundlerOptions } from '../../src/dev/source-entries.js';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import type { TestProject } from 'vitest/node';
import { ensureSearchAttributes, connectClient } from '../../src/client.js';
import { loadConfig } from '../../src/config.js';
import { createPool } from '../../src/db/pool.js';
import { migrate } from '../../src/db/migrate.js';
import { startStack, type Stack } from '../../src/dev/stack.js';
import { migrateOrderTables } from '../../examples/order-ops/db.js';
import { WORKFLOWS_PATH } from '../../examples/order-ops/worker.js';

declare module 'vitest' {
  export interface ProvidedContext {
    temporalAddress: string;
    namespace: string;
    databaseUrl: string;
    workflowBundlePath: string;
  }
}

let stack: Stack | undefined;
let scratch: string | undefined;

/** One real Temporal dev server and one real Postgres per test run, on free ports. */
export async function setup(project: TestProject): Promise<void> {
  const config = loadConfig();
  scratch = mkdtempSync(join(tmpdir(), 'onceflow-test-'));
  // As root, Postgres runs as the postgres user, which must be able to enter the scratch dir.
  chmodSync(scratch, 0o755);
  stack = await startStack({ mode: 'ephemeral', config, scratchDir: scratch });
  const pool = createPool(stack.databaseUrl, 2);
  try {
    await migrate(pool);
    await migrateOrderTables(pool); // the order example's tables, which most tests use
  } finally {
    await pool.end();
  }
  if (config.temporalAddress) {
    const { connection, close } = await connectClient(stack.temporalAddress, stack.namespace);
    await ensureSearchAttributes(connection, stack.namespace);
    await close();
  }
  const { code } = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    logger: quietLogger,
    ...sourceBundlerOptions(),
  });
  const workflowBundlePath = join(scratch, 'workflow-bundle.js');
  writeFileSync(workflowBundlePath, code);
  project.provide('temporalAddress', stack.temporalAddress);
  project.provide('namespace', stack.namespace);
  project.provide('databaseUrl', stack.databaseUrl);
  project.provide('workflowBundlePath', workflowBundlePath);
}

export async function teardown(): Promise<void> {
  await stack?.stop();
  if (scratch) rmSync(scratch, { recursive: true, force: true });
}

const noop = () => undefined;
const quietLogger = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error };
