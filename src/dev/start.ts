import { NativeConnection } from '@temporalio/worker';
import { connectClient, ensureSearchAttributes, uiLink } from '../client.js';
import type { Config } from '../config.js';
import { createPool } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { seedDemoData } from '../db/seed.js';
import { startSandbox, writeSandboxAddresses, type Sandbox } from '../sandbox/index.js';
import { buildActivityDeps, createWorker } from '../worker.js';
import { startStack } from './stack.js';

const log = (line: string) => process.stdout.write(`onceflow: ${line}\n`);

/**
 * `npm start`: the embedded default. Brings up Postgres and the Temporal dev server (unless configured
 * to use existing ones), runs a worker and a first task, prints its Web UI link and stays up until
 * SIGINT/SIGTERM, then drains the worker and stops everything it started.
 */
export async function start(config: Config): Promise<void> {
  const began = Date.now();
  const stack = await startStack({ mode: 'persistent', config, log });
  const pool = createPool(stack.databaseUrl, config.pgPoolSize);
  let connection: NativeConnection | undefined;
  let sandbox: Sandbox | undefined;
  const client = await connectClient(stack.temporalAddress, stack.namespace).catch(async (err: unknown) => {
    await stack.stop();
    throw err;
  });
  try {
    const applied = await migrate(pool);
    if (applied.length) log(`applied migrations: ${applied.join(', ')}`);
    await seedDemoData(pool);
    sandbox = await startSandbox({ pool });
    const a = sandbox.addresses;
    writeSandboxAddresses(config.sandboxFile, a);
    log(`sandbox: payments ${a.payments.url}, SMTP ${a.smtp.url}, mailbox ${a.emailApi.url}, model ${a.model.baseURL}`);
    const deps = buildActivityDeps(config, pool, {
      paymentsUrl: a.payments.url,
      smtpUrl: a.smtp.url,
      emailLookupUrl: a.emailApi.url,
      modelBaseUrl: a.model.baseURL,
    });
    for (const line of deps.downstream.describe) log(line);
    if (config.temporalAddress) await ensureSearchAttributes(client.connection, stack.namespace);
    connection = await NativeConnection.connect({ address: stack.temporalAddress });
    const worker = await createWorker({
      connection,
      namespace: stack.namespace,
      taskQueue: config.taskQueue,
      deps,
    });
    const running = worker.run();
    for (const line of stack.describe) log(line);
    log(
      `worker polling task queue "${config.taskQueue}" (ready in ${((Date.now() - began) / 1000).toFixed(1)} s)`,
    );

    const workflowId = `ping-${new Date().toISOString().replace(/[:.]/g, '-')}`;
    const handle = await client.client.workflow.start('pingWorkflow', {
      taskQueue: config.taskQueue,
      workflowId,
      args: ['hello from npm start'],
    });
    const result: unknown = await handle.result();
    log(`ran ${workflowId}: ${JSON.stringify(result)}`);
    if (stack.uiUrl)
      log(
        `see it in the Temporal UI: ${uiLink(stack.uiUrl, stack.namespace, workflowId, handle.firstExecutionRunId)}`,
      );
    log('up; press Ctrl-C to stop');
    await running;
  } finally {
    log('stopping');
    await client.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await sandbox?.stop().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await stack.stop();
    log('stopped');
  }
}
