import type { Client } from '@temporalio/client';
import type { ActivityDeps } from '../activities/index.js';
import { startApi } from '../api/index.js';
import { NativeConnection } from '@temporalio/worker';
import { connectClient, ensureSearchAttributes, uiLink } from '../client.js';
import type { Config } from '../config.js';
import { createPool } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { DEMO_CUSTOMERS, seedDemoData } from '../db/seed.js';
import { agentWorkflow } from '../workflows/index.js';
import { startSandbox, writeSandboxAddresses, type Sandbox } from '../sandbox/index.js';
import { buildActivityDeps, createWorker } from '../worker.js';
import { PrerequisiteError } from '../errors.js';
import { isPortFree } from './ports.js';
import { resolveCodec } from '../codec/aes-gcm.js';
import { ensurePruneSchedule, PRUNE_SCHEDULE_ID } from '../schedules.js';
import { startStack } from './stack.js';

const log = (line: string) => process.stdout.write(`onceflow: ${line}\n`);

/**
 * The demo agent session: the scripted model plays `agent-happy-path` for the seeded customer
 * cust_42. Each start uses a fresh order reference, so every start is a new task.
 */
async function runDemo(client: Client, taskQueue: string, uiUrl: string | undefined, namespace: string) {
  const stamp = new Date()
    .toISOString()
    .replace(/[-:TZ.]/g, '')
    .slice(0, 14);
  const orderId = `ord_${stamp}`;
  const workflowId = `demo-${orderId}`;
  const customer = DEMO_CUSTOMERS[0];
  log(`demo: agent session ${workflowId} (scripted model, scenario agent-happy-path)`);
  const handle = await client.workflow.start(agentWorkflow, {
    taskQueue,
    workflowId,
    args: [
      {
        prompt: `Order 2 mugs and a box of tea for customer_id=${customer.customerId} email=${customer.email} as order_id=${orderId}, ship it and confirm by email.`,
        customerId: customer.customerId,
        scenario: 'agent-happy-path',
      },
    ],
  });
  const result = await handle.result();
  for (const call of result.toolCalls) {
    log(
      `  turn ${call.turn}: ${call.name} → ${call.outcome}${call.key ? ` (${call.key.slice(0, 12)}…)` : ''}`,
    );
  }
  log(`demo: ${result.status}: ${result.finalText}`);
  log(
    `demo: ${result.usage.turns} model turns, ${result.usage.inputTokens + result.usage.outputTokens} tokens`,
  );
  if (uiUrl)
    log(`see it in the Temporal UI: ${uiLink(uiUrl, namespace, workflowId, handle.firstExecutionRunId)}`);
}

/**
 * `npm start`: the embedded default. Brings up Postgres and the Temporal dev server (unless configured
 * to use existing ones), runs a worker and a first task, prints its Web UI link and stays up until
 * SIGINT/SIGTERM, then drains the worker and stops everything it started.
 */
export async function start(config: Config): Promise<void> {
  const began = Date.now();
  if (!(await isPortFree(config.apiPort))) {
    throw new PrerequisiteError(
      `port ${config.apiPort} for the API is in use: stop what holds it or set API_PORT`,
    );
  }
  // The embedded default encrypts payloads with a key kept in the data dir; the UI decodes through the API.
  const codec = resolveCodec(config.dataDir, { create: true });
  const stack = await startStack({
    mode: 'persistent',
    config,
    log,
    devServerArgs: ['--ui-codec-endpoint', `http://127.0.0.1:${config.apiPort}/codec`],
  });
  const pool = createPool(stack.databaseUrl, config.pgPoolSize);
  let connection: NativeConnection | undefined;
  let sandbox: Sandbox | undefined;
  let deps: ActivityDeps | undefined;
  let api: { url: string; close: () => Promise<void> } | undefined;
  const client = await connectClient(stack.temporalAddress, stack.namespace, codec).catch(
    async (err: unknown) => {
      await stack.stop();
      throw err;
    },
  );
  try {
    const applied = await migrate(pool);
    if (applied.length) log(`applied migrations: ${applied.join(', ')}`);
    await seedDemoData(pool);
    sandbox = await startSandbox({ pool });
    const a = sandbox.addresses;
    writeSandboxAddresses(config.sandboxFile, a);
    log(
      `sandbox: payments ${a.payments.url}, SMTP ${a.smtp.url}, mailbox ${a.emailApi.url}, model ${a.model.baseURL}`,
    );
    deps = buildActivityDeps(config, pool, {
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
      codec,
    });
    const running = worker.run();
    api = await startApi({
      client: client.client,
      pool,
      taskQueue: config.taskQueue,
      uiUrl: stack.uiUrl ?? config.temporalUiUrl,
      apiToken: config.apiToken,
      port: config.apiPort,
      codec,
      corsOrigin: stack.uiUrl ?? config.temporalUiUrl,
    });
    log(`API on ${api.url} (OpenAPI at ${api.url}/docs)${config.apiToken ? ', bearer token required' : ''}`);
    for (const line of stack.describe) log(line);
    const schedule = await ensurePruneSchedule(client.client, {
      taskQueue: config.taskQueue,
      retentionDays: config.ledgerRetentionDays,
      maxTaskDays: config.taskMaxDays,
    });
    log(
      `ledger prune schedule ${PRUNE_SCHEDULE_ID}: ${schedule} (retention ${config.ledgerRetentionDays} days)`,
    );
    log(
      `worker polling task queue "${config.taskQueue}" (ready in ${((Date.now() - began) / 1000).toFixed(1)} s)`,
    );

    await runDemo(client.client, config.taskQueue, stack.uiUrl, stack.namespace);
    log('up; press Ctrl-C to stop');
    await running;
  } finally {
    log('stopping');
    await api?.close().catch(() => undefined);
    await client.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await deps?.ledger.close().catch(() => undefined);
    deps?.downstream.mailer.close();
    await sandbox?.stop().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await stack.stop();
    log('stopped');
  }
}
