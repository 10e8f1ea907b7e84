import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityCalls } from '../../src/history/activity-calls.js';
import { auditPayments } from '../../src/sandbox/audit.js';
import type { OrderInput } from '../../examples/order-ops/order-saga.js';
import { agentWorkflow, orderWorkflow } from '../../examples/order-ops/workflows.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { spawnWorkerProcess } from '../support/worker-process.js';
import { waitFor } from '../support/wait.js';

/** Real worker processes killed with SIGKILL mid-activity; another worker finishes the task. */
describe('a worker killed mid-task', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
  });
  afterAll(async () => {
    await env.close();
  });

  it.each([
    { execution: 'regular' as const, via: 'the activity times out' },
    { execution: 'local' as const, via: 'the workflow task times out' },
  ])(
    'after the charge committed, before the $execution activity completed: one charge, saga finished by another worker ($via)',
    async ({ execution }) => {
      const taskQueue = `${env.taskQueue}-order-crash-${execution}`;
      const id = randomUUID().slice(0, 8);
      const input: OrderInput = {
        orderId: `ord_${id}`,
        customerId: `cust_${id}`,
        email: `crash-${id}@example.com`,
        items: [{ sku: 'mug', quantity: 1, unitAmount: 1500 }],
        currency: 'usd',
        shippingAddress: {
          name: 'Ada',
          line1: '1 Loop St',
          city: 'Lyon',
          postalCode: '69001',
          country: 'FR',
        },
        effectTimeout: '4 seconds',
        execution,
      };
      // The payments API commits the charge, then holds the response: the window where a crash loses it.
      env.sandbox.faults.payments.set([
        {
          match: { method: 'POST', path: '/v1/payment_intents' },
          fault: 'delay_after_commit',
          latencyMs: 30_000,
          times: 1,
        },
      ]);
      const doomed = spawnWorkerProcess(taskQueue, env.sandbox.addresses);
      await doomed.ready;
      const handle = await env.client.workflow.start(orderWorkflow, {
        taskQueue,
        workflowId: input.orderId,
        args: [input],
      });
      await waitFor(
        async () =>
          ((await auditPayments(env.pool, { customer: input.customerId })).customers[0]?.charges ?? 0) === 1,
      );
      await doomed.kill('SIGKILL');
      env.sandbox.faults.payments.clear();

      await env.startWorker({ taskQueue });
      const result = await handle.result();
      expect(result.status).toBe('completed');
      const truth = (await auditPayments(env.pool, { customer: input.customerId })).customers[0];
      expect(truth).toMatchObject({ charges: 1, charged: 1500, refunds: 0 });
      // The second attempt found the crashed claim and resumed it with the same Stripe key.
      expect(result.steps.find((s) => s.step === 'charge_payment')?.outcome).toBe('recovered');
      // The charge ran the way it was asked to: a local activity is a marker in history.
      const calls = activityCalls((await handle.fetchHistory()).events ?? []);
      expect(calls.find((c) => c.type === 'chargePayment')?.local).toBe(execution === 'local');
    },
  );

  it('mid agent session: another worker resumes and recorded model turns are not called again', async () => {
    const taskQueue = `${env.taskQueue}-agent-crash`;
    const id = randomUUID().slice(0, 8);
    const customerId = `cust_${id}`;
    const email = `crash-${id}@example.com`;
    await env.pool.query('INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)', [
      customerId,
      'Crash Test',
      email,
    ]);
    const prompt = `Order for customer_id=${customerId} email=${email} as order_id=ord_${id}.`;
    // The charge hangs after committing, so the worker dies in the middle of turn 3's tool call.
    env.sandbox.faults.payments.set([
      {
        match: { method: 'POST', path: '/v1/payment_intents' },
        fault: 'delay_after_commit',
        latencyMs: 30_000,
        times: 1,
      },
    ]);
    const doomed = spawnWorkerProcess(taskQueue, env.sandbox.addresses);
    await doomed.ready;
    const handle = await env.client.workflow.start(agentWorkflow, {
      taskQueue,
      workflowId: `agent-crash-${id}`,
      args: [{ prompt, customerId, scenario: 'agent-happy-path', effectTimeout: '4 seconds' }],
    });
    await waitFor(
      async () =>
        ((await auditPayments(env.pool, { customer: customerId })).customers[0]?.charges ?? 0) === 1,
    );
    const before = await modelRequests(prompt);
    await doomed.kill('SIGKILL');
    env.sandbox.faults.payments.clear();

    await env.startWorker({ taskQueue });
    const result = await handle.result();
    expect(result.status).toBe('completed');
    expect(result.usage.turns).toBe(5);
    // Three turns had been answered before the crash; only the two remaining ones were asked after it.
    expect(before).toBe(3);
    expect(await modelRequests(prompt)).toBe(5);
    expect((await auditPayments(env.pool, { customer: customerId })).customers[0]).toMatchObject({
      charges: 1,
    });
  });

  async function modelRequests(prompt: string): Promise<number> {
    const response = await fetch(new URL('/__admin/stats', env.sandbox.addresses.model.baseURL));
    const stats = (await response.json()) as { conversations: Record<string, number> };
    return stats.conversations[prompt] ?? 0;
  }
});
