import { startApi } from '../api/index.js';
import { NativeConnection } from '@temporalio/worker';
import { connectClient, ensureSearchAttributes, uiLink } from '../client.js';
import type { Config } from '../config.js';
import { createPool } from '../db/pool.js';
import { migrate } from '../db/migrate.js';
import { sandboxEndpoints, startSandbox, writeSandboxAddresses, type Sandbox } from '../sandbox/index.js';
import { PrerequisiteError } from '../errors.js';
import type { DevApp, DevWorker } from './app.js';
import { isPortFree } from './ports.js';
import { resolveCodec } from '../codec/aes-gcm.js';
import { ensurePruneSchedule, PRUNE_SCHEDULE_ID } from '../schedules.js';
import { startStack } from './stack.js';

const log = (line: string) => process.stdout.write(`onceflow: ${line}\n`);

/**
 * `npm start`: the embedded default. Brings up Postgres and the Temporal dev server (unless configured
 * to use existing ones), the sandboxes, the app's worker (default: the order example), the API and
 * the app's demo task, prints its Web UI link and stays up until SIGINT/SIGTERM, then drains the
 * worker and stops everything it started.
 */
export async function start(config: Config, app: DevApp): Promise<void> {
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
  let appWorker: DevWorker | undefined;
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
    await app.seed?.(pool);
    sandbox = await startSandbox({ pool });
    const a = sandbox.addresses;
    writeSandboxAddresses(config.sandboxFile, a);
    log(
      `sandbox: payments ${a.payments.url}, SMTP ${a.smtp.url}, mailbox ${a.emailApi.url}, model ${a.model.baseURL}, MCP ${a.mcp.url}`,
    );
    if (config.temporalAddress) await ensureSearchAttributes(client.connection, stack.namespace);
    connection = await NativeConnection.connect({ address: stack.temporalAddress });
    appWorker = await app.startWorker({
      connection,
      namespace: stack.namespace,
      taskQueue: config.taskQueue,
      pool,
      sandbox: sandboxEndpoints(a),
      codec,
      config,
    });
    for (const line of appWorker.describe) log(line);
    const running = appWorker.worker.run();
    api = await startApi({
      tasks: app.tasks,
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
    log(`operator console: ${api.url}/console (tasks live: text, tool calls, approvals)`);
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
      `${app.name} worker polling task queue "${config.taskQueue}" (ready in ${((Date.now() - began) / 1000).toFixed(1)} s)`,
    );

    if (app.demo) {
      const { workflowId, runId } = await app.demo({
        client: client.client,
        taskQueue: config.taskQueue,
        log,
      });
      if (stack.uiUrl)
        log(`see it in the Temporal UI: ${uiLink(stack.uiUrl, stack.namespace, workflowId, runId)}`);
    }
    log('up; press Ctrl-C to stop');
    await running;
  } finally {
    log('stopping');
    await api?.close().catch(() => undefined);
    await client.close().catch(() => undefined);
    await connection?.close().catch(() => undefined);
    await appWorker?.close().catch(() => undefined);
    await sandbox?.stop().catch(() => undefined);
    await pool.end().catch(() => undefined);
    await stack.stop();
    log('stopped');
  }
}
