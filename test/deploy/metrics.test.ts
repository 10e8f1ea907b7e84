import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../src/dev/ports.js';
import { orderWorkflow } from '../../examples/order-ops/workflows.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { spawnWorkerProcess } from '../support/worker-process.js';

describe('worker metrics', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(async () => {
    await env.close();
  });

  it('serves Temporal runtime metrics and onceflow counters on METRICS_PORT', async () => {
    const port = await freePort();
    const taskQueue = `${env.taskQueue}-metrics`;
    const worker = spawnWorkerProcess(taskQueue, env.sandbox.addresses, { METRICS_PORT: String(port) });
    try {
      await worker.ready;
      const id = randomUUID().slice(0, 8);
      await env.client.workflow
        .execute(orderWorkflow, {
          taskQueue,
          workflowId: `metrics-${id}`,
          args: [
            {
              orderId: `ord_m_${id}`,
              customerId: `cust_m_${id}`,
              email: `m-${id}@example.com`,
              items: [{ sku: 'mug', quantity: 1, unitAmount: 1500 }],
              currency: 'usd',
              shippingAddress: { name: 'M', line1: '1 St', city: 'X', postalCode: '1', country: 'FR' },
              failAfter: 'book_shipment',
              compensationRetry: { initialInterval: '100 milliseconds', maximumAttempts: 3 },
            },
          ],
        })
        .catch(() => undefined);
      let text = '';
      for (let i = 0; i < 50; i++) {
        text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
        if (text.includes('onceflow_compensations')) break;
        await new Promise((r) => setTimeout(r, 200));
      }
      expect(text).toMatch(/temporal_\w+/);
      expect(text).toMatch(/onceflow_effects\w*\{[^}]*operation="charge_payment"[^}]*outcome="executed"/);
      expect(text).toMatch(/onceflow_compensations\w*\{[^}]*result="compensated"/);
    } finally {
      await worker.kill('SIGTERM');
    }
  });
});
