import { randomUUID } from 'node:crypto';
import { WorkflowFailedError, WorkflowIdConflictPolicy } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityCalls } from '../../src/history/activity-calls.js';
import { auditEmail, auditPayments } from '../../src/sandbox/audit.js';
import type { OrderInput, OrderStep } from '../../examples/order-ops/order-saga.js';
import { orderWorkflow } from '../../examples/order-ops/workflows.js';
import { sagaStateQuery } from '../../src/workflows/index.js';
import { SAGA_STATE, TASK_STATUS } from '../../src/workflows/search-attributes.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { waitFor } from '../support/wait.js';

function order(overrides: Partial<OrderInput> = {}): OrderInput {
  const id = randomUUID().slice(0, 8);
  return {
    orderId: `ord_${id}`,
    customerId: `cust_${id}`,
    email: `buyer-${id}@example.com`,
    items: [
      { sku: 'mug', quantity: 2, unitAmount: 1250 },
      { sku: 'tea', quantity: 1, unitAmount: 499 },
    ],
    currency: 'usd',
    shippingAddress: { name: 'Ada', line1: '1 Loop St', city: 'Lyon', postalCode: '69001', country: 'FR' },
    compensationRetry: { initialInterval: '100 milliseconds', maximumAttempts: 3 },
    ...overrides,
  };
}

const AMOUNT = 2 * 1250 + 499;

describe('orderWorkflow: a saga over payments, email and our own tables', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
    await env.startWorker();
  });
  afterAll(async () => {
    await env.close();
  });

  async function truth(input: OrderInput) {
    const payments = await auditPayments(env.pool, { customer: input.customerId });
    const email = await auditEmail(env.pool, { to: input.email });
    const orders = await env.pool.query<{ status: string }>('SELECT status FROM orders WHERE order_id = $1', [
      input.orderId,
    ]);
    const shipments = await env.pool.query<{ status: string }>(
      'SELECT status FROM shipments WHERE order_id = $1',
      [input.orderId],
    );
    const customer = payments.customers[0];
    return {
      charges: customer?.charges ?? 0,
      charged: customer?.charged ?? 0,
      refunds: customer?.refunds ?? 0,
      net: customer?.net ?? 0,
      messages: email.recipients[0]?.messages ?? 0,
      orders: orders.rows.map((r) => r.status),
      shipments: shipments.rows.map((r) => r.status),
    };
  }

  async function scheduledActivities(workflowId: string): Promise<string[]> {
    const history = await env.client.workflow.getHandle(workflowId).fetchHistory();
    return activityCalls(history.events ?? []).map((c) => c.type);
  }

  it('performs each effect once on the happy path', async () => {
    const input = order();
    const result = await env.client.workflow.execute(orderWorkflow, {
      taskQueue: env.taskQueue,
      workflowId: input.orderId,
      args: [input],
    });
    expect(result.status).toBe('completed');
    expect(result.amount).toBe(AMOUNT);
    expect(result.steps.map((s) => [s.step, s.outcome])).toEqual([
      ['create_order', 'executed'],
      ['charge_payment', 'executed'],
      ['book_shipment', 'executed'],
      ['send_email', 'executed'],
    ]);
    expect(await truth(input)).toEqual({
      charges: 1,
      charged: AMOUNT,
      refunds: 0,
      net: AMOUNT,
      messages: 1,
      orders: ['created'],
      shipments: ['booked'],
    });
    const description = await env.client.workflow.getHandle(input.orderId).describe();
    expect(description.typedSearchAttributes.get(TASK_STATUS)).toBe('completed');
    expect(description.typedSearchAttributes.get(SAGA_STATE)).toBe('completed');
  });

  const undoneAfter: [OrderStep, string[]][] = [
    ['create_order', ['cancelOrder']],
    ['charge_payment', ['refundPayment', 'cancelOrder']],
    ['book_shipment', ['releaseShipment', 'refundPayment', 'cancelOrder']],
    ['send_email', ['sendCorrectionEmail', 'releaseShipment', 'refundPayment', 'cancelOrder']],
  ];

  it.each(undoneAfter)(
    'undoes every step in reverse, once each, when the order fails after %s',
    async (step, undo) => {
      const input = order({ failAfter: step });
      const error = await env.client.workflow
        .execute(orderWorkflow, { taskQueue: env.taskQueue, workflowId: input.orderId, args: [input] })
        .catch((err: unknown) => err);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const activities = await scheduledActivities(input.orderId);
      const compensations = activities.slice(activities.length - undo.length);
      expect(compensations).toEqual(undo);
      const after = await truth(input);
      expect(after.net).toBe(0);
      expect(after.charges).toBe(step === 'create_order' ? 0 : 1);
      expect(after.refunds).toBe(step === 'create_order' ? 0 : 1);
      expect(after.orders).toEqual(['cancelled']);
      expect(after.shipments).toEqual(step === 'book_shipment' || step === 'send_email' ? ['released'] : []);
      expect(after.messages).toBe(step === 'send_email' ? 2 : 0); // confirmation + correction
      const state = await env.client.workflow.getHandle(input.orderId).query(sagaStateQuery);
      expect(state.status).toBe('compensated');
    },
  );

  it('treats a declined card as a business failure: nothing charged, the order cancelled', async () => {
    const input = order({ paymentMethod: 'pm_card_chargeDeclined' });
    const error = await env.client.workflow
      .execute(orderWorkflow, { taskQueue: env.taskQueue, workflowId: input.orderId, args: [input] })
      .catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(String((error as WorkflowFailedError).cause?.message)).toMatch(/declined/i);
    const after = await truth(input);
    expect(after).toMatchObject({ charges: 0, refunds: 0, net: 0, orders: ['cancelled'], shipments: [] });
    // The decline happened once: retries were not attempted for a terminal error.
    const activities = await scheduledActivities(input.orderId);
    expect(activities.filter((a) => a === 'chargePayment')).toHaveLength(1);
  });

  it('charges once when the payments API commits and then drops the response', async () => {
    const input = order();
    env.sandbox.faults.payments.set([
      // Twice: the stripe SDK retries a closed connection once on its own; the second drop fails the attempt.
      { match: { method: 'POST', path: '/v1/payment_intents' }, fault: 'drop_after_commit', times: 2 },
    ]);
    const result = await env.client.workflow.execute(orderWorkflow, {
      taskQueue: env.taskQueue,
      workflowId: input.orderId,
      args: [input],
    });
    env.sandbox.faults.payments.clear();
    expect(result.status).toBe('completed');
    expect(await truth(input)).toMatchObject({ charges: 1, charged: AMOUNT, refunds: 0 });
    const charge = await env.ledger.get(result.steps.find((s) => s.step === 'charge_payment')?.key ?? '');
    expect(charge?.attempts).toBeGreaterThanOrEqual(2); // the activity really failed once and was retried
  });

  // Local: the cancel arrives while the workflow task that ran the steps is open, so that task fails
  // (the workflow closed with a new event pending) and its results never reach history; the
  // re-execution sees the cancel before the charge, and the saga finds the charge and the shipment in
  // the ledger (`unrecordedEffects`) and undoes them with the rest.
  it.each(['regular', 'local'] as const)(
    'runs compensations to completion when the workflow is cancelled mid-saga (%s steps)',
    async (execution) => {
      const input = order({ execution });
      env.sandbox.faults.payments.set([
        {
          match: { method: 'POST', path: '/v1/payment_intents' },
          fault: 'latency',
          latencyMs: 1500,
          times: 1,
        },
      ]);
      const delayed = () => env.sandbox.faults.payments.injected().latency ?? 0;
      const before = delayed();
      const handle = await env.client.workflow.start(orderWorkflow, {
        taskQueue: env.taskQueue,
        workflowId: input.orderId,
        args: [input],
      });
      // The charge has reached the payments API and is being held there: cancel while it is in flight.
      await waitFor(() => Promise.resolve(delayed() > before));
      await handle.cancel();
      const error = await handle.result().catch((err: unknown) => err);
      env.sandbox.faults.payments.clear();
      expect(error).toBeInstanceOf(WorkflowFailedError);
      const after = await truth(input);
      expect(after).toMatchObject({ net: 0, orders: ['cancelled'] });
      expect(after.shipments.filter((s) => s !== 'released')).toEqual([]);
      expect(after.charges).toBe(after.refunds);
      // Every step the ledger saw done was undone under its own key, whether or not history kept it.
      const { rows } = await env.pool.query<{ key: string; operation: string }>(
        `SELECT l.key, l.operation FROM idempotency_ledger l
          WHERE l.scope = $1 AND l.status = 'succeeded' AND l.key NOT LIKE '%:undo'
            AND NOT EXISTS (SELECT 1 FROM idempotency_ledger u WHERE u.key = l.key || ':undo' AND u.status = 'succeeded')`,
        [input.orderId],
      );
      expect(rows.map((r) => r.operation)).toEqual([]);
      if (execution === 'local') {
        // The steps the lost workflow task ran were found in the ledger, not in history.
        const { steps } = await handle.query(sagaStateQuery);
        expect(steps.filter((s) => s.name.endsWith('(done by a lost workflow task)')).length).toBeGreaterThan(
          0,
        );
      }
      expect(await handle.query(sagaStateQuery)).toMatchObject({
        status: 'compensated',
        reason: 'cancelled',
      });
    },
  );

  it('keeps undoing when one compensation keeps failing, and marks the run for a person', async () => {
    const input = order({ failAfter: 'book_shipment' });
    env.sandbox.faults.payments.set([
      { match: { method: 'POST', path: '/v1/refunds' }, fault: 'fail_before_commit', times: 1000 },
    ]);
    const error = await env.client.workflow
      .execute(orderWorkflow, { taskQueue: env.taskQueue, workflowId: input.orderId, args: [input] })
      .catch((err: unknown) => err);
    env.sandbox.faults.payments.clear();
    expect(error).toBeInstanceOf(WorkflowFailedError);
    const handle = env.client.workflow.getHandle(input.orderId);
    const state = await handle.query(sagaStateQuery);
    expect(state.status).toBe('compensation_failed');
    expect(state.needsAttention).toEqual([
      expect.objectContaining({
        step: 'charge_payment',
        action: expect.stringContaining('refund') as unknown,
      }),
    ]);
    // The failing refund did not stop the others.
    const after = await truth(input);
    expect(after).toMatchObject({ charges: 1, refunds: 0, orders: ['cancelled'], shipments: ['released'] });
    const description = await handle.describe();
    expect(description.typedSearchAttributes.get(SAGA_STATE)).toBe('compensation_failed');
    expect(description.typedSearchAttributes.get(TASK_STATUS)).toBe('compensation_failed');
  });

  it('attaches a duplicate start to the existing run: one run, one charge', async () => {
    const input = order();
    const options = {
      taskQueue: env.taskQueue,
      workflowId: input.orderId,
      args: [input] as [OrderInput],
      workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    };
    const [a, b] = await Promise.all([
      env.client.workflow.start(orderWorkflow, options),
      env.client.workflow.start(orderWorkflow, options),
    ]);
    expect(a.firstExecutionRunId).toBe(b.firstExecutionRunId);
    await a.result();
    expect(await truth(input)).toMatchObject({ charges: 1, messages: 1 });
  });

  it('replays from history with no extra effects when the worker keeps no cache', async () => {
    const taskQueue = `${env.taskQueue}-nocache`;
    await env.startWorker({ taskQueue, maxCachedWorkflows: 0 });
    const input = order({ failAfter: 'send_email' });
    await env.client.workflow
      .execute(orderWorkflow, { taskQueue, workflowId: input.orderId, args: [input] })
      .catch((err: unknown) => err);
    expect(await truth(input)).toMatchObject({ charges: 1, refunds: 1, net: 0, messages: 2 });
    const stats = await env.ledger.stats({ scope: input.orderId });
    expect(stats.replayed).toBe(0);
  });
});
