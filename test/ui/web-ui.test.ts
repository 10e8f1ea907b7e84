import { randomBytes, randomUUID } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startApi } from '../../src/api/index.js';
import { AesGcmCodec } from '../../src/codec/aes-gcm.js';
import { freePort } from '../../src/dev/ports.js';
import { startDevServer, type DevServer } from '../../src/dev/temporal-server.js';
import { agentWorkflow } from '../../examples/order-ops/workflows.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { ORDER_TASKS } from '../../examples/order-ops/tasks.js';

const CHROMIUM = '/usr/bin/chromium';

/**
 * A person's view: the Temporal Web UI of a dev server started with `--ui-codec-endpoint` pointing at the
 * API's codec server, opened in headless Chromium. Encrypted payloads must show decoded, activity
 * summaries must show intent keys. `.ci/run` installs Debian's chromium.
 */
describe('the Temporal Web UI shows a finished agent run, decoded, with keys', () => {
  let env: TestEnv;
  let server: DevServer;
  let api: Awaited<ReturnType<typeof startApi>>;
  const codec = new AesGcmCodec(new Map([['k1', randomBytes(32)]]), 'k1');
  let client: Client;
  let connection: Connection;

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} missing: apt-get install chromium (.ci/run does)`).toBe(true);
    env = await createTestEnv();
    const apiPort = await freePort();
    server = await startDevServer({
      uiPort: await freePort(),
      extraArgs: ['--ui-codec-endpoint', `http://127.0.0.1:${apiPort}/codec`],
    });
    connection = await Connection.connect({ address: server.address });
    client = new Client({ connection, namespace: 'default', dataConverter: { payloadCodecs: [codec] } });
    api = await startApi({
      tasks: ORDER_TASKS,
      client,
      pool: env.pool,
      taskQueue: env.taskQueue,
      uiUrl: server.uiUrl!,
      codec,
      port: apiPort,
    });
  });
  afterAll(async () => {
    await api?.close();
    await connection?.close();
    await env?.close();
    await server?.stop();
  });

  it('opens the run and finds the decoded prompt and the activity summaries with keys', async () => {
    const { NativeConnection } = await import('@temporalio/worker');
    const native = await NativeConnection.connect({ address: server.address });
    const { createOrderWorker } = await import('../../examples/order-ops/worker.js');
    const taskQueue = `ui-${randomUUID()}`;
    const worker = await createOrderWorker({
      connection: native,
      namespace: 'default',
      taskQueue,
      deps: env.deps,
      codec,
    });
    const running = worker.run();
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      const id = randomUUID().slice(0, 8);
      await env.pool.query('INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)', [
        `cust_${id}`,
        'Ui',
        `ui-${id}@example.com`,
      ]);
      const workflowId = `ui-${id}`;
      const handle = await client.workflow.start(agentWorkflow, {
        taskQueue,
        workflowId,
        args: [
          {
            prompt: `Order for customer_id=cust_${id} email=ui-${id}@example.com as order_id=ord_${id}.`,
            scenario: 'agent-happy-path',
          },
        ],
      });
      await handle.result();
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      await page.goto(
        `${server.uiUrl}/namespaces/default/workflows/${workflowId}/${handle.firstExecutionRunId}/history`,
      );
      await page.getByText(`customer_id=cust_${id}`).first().waitFor({ timeout: 30_000 });
      await page
        .getByText(/chargePayment .* charge cust_\w+ 4999 usd · ik_/)
        .first()
        .waitFor({ timeout: 30_000 });
      mkdirSync('test/artifacts', { recursive: true });
      await page.screenshot({ path: 'test/artifacts/web-ui-agent-run.png' });
      expect(await page.getByText(/· ik_/).count()).toBeGreaterThanOrEqual(4);
    } finally {
      await browser.close();
      worker.shutdown();
      await running;
      await native.close();
    }
  }, 120_000);
});
