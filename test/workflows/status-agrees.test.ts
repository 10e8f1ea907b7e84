import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compensationKey } from '../../src/idempotency/keys.js';
import { beforeFirstActivity } from '../../src/reset-point.js';
import { auditPayments } from '../../src/sandbox/audit.js';
import { agentWorkflow, orderWorkflow } from '../../examples/order-ops/workflows.js';
import {
  sagaStateQuery,
  toolCallsQuery,
  type AgentInput,
  type AgentResult,
} from '../../src/workflows/index.js';
import type { OrderInput } from '../../examples/order-ops/order-saga.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

/**
 * A task's final status and saga state agree with the downstream: `completed` means every step it
 * reports `succeeded` is in effect, `compensated` means none is — after resets past a compensation
 * and declined charges too.
 */
describe('final status agrees with the downstream', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
    await env.startWorker();
  });
  afterAll(async () => {
    await env.close();
  });

  async function customer() {
    const id = randomUUID().slice(0, 8);
    const t = { id, orderId: `ord_${id}`, customerId: `cust_${id}`, email: `buyer-${id}@example.com` };
    await env.pool.query('INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)', [
      t.customerId,
      `Buyer ${id}`,
      t.email,
    ]);
    return t;
  }

  function agentInput(t: Awaited<ReturnType<typeof customer>>, scenario: string): AgentInput {
    return {
      prompt: `Please order 2 mugs and tea for customer_id=${t.customerId} email=${t.email} as order_id=${t.orderId}.`,
      customerId: t.customerId,
      scenario,
      compensationRetry: { initialInterval: '100 milliseconds', maximumAttempts: 3 },
    };
  }

  function orderInput(t: Awaited<ReturnType<typeof customer>>, overrides: Partial<OrderInput>): OrderInput {
    return {
      orderId: t.orderId,
      customerId: t.customerId,
      email: t.email,
      items: [{ sku: 'mug', quantity: 2, unitAmount: 1250 }],
      currency: 'usd',
      shippingAddress: { name: 'Ada', line1: '1 Loop St', city: 'Lyon', postalCode: '69001', country: 'FR' },
      compensationRetry: { initialInterval: '100 milliseconds', maximumAttempts: 3 },
      ...overrides,
    };
  }

  async function downstream(t: { orderId: string; customerId: string }) {
    const payments = (await auditPayments(env.pool, { customer: t.customerId })).customers[0];
    const orders = await env.pool.query<{ status: string }>('SELECT status FROM orders WHERE order_id = $1', [
      t.orderId,
    ]);
    return {
      charges: payments?.charges ?? 0,
      refunds: payments?.refunds ?? 0,
      net: payments?.net ?? 0,
      orders: orders.rows.map((r) => r.status),
    };
  }

  async function paymentsRequests(): Promise<number> {
    const url = new URL('/__admin/stats', env.sandbox.addresses.payments.url);
    return ((await (await fetch(url)).json()) as { requests: number }).requests;
  }

  /** Counts the payments API requests `run` makes (not counting the stats requests themselves). */
  async function countPaymentsRequests(run: () => Promise<unknown>): Promise<number> {
    const first = await paymentsRequests();
    const before = await paymentsRequests();
    await run();
    return (await paymentsRequests()) - before - (before - first);
  }

  async function resetBeforeCharge(workflowId: string): Promise<string> {
    const handle = env.client.workflow.getHandle(workflowId);
    const { runId } = await handle.describe();
    const point = beforeFirstActivity((await handle.fetchHistory()).events ?? [], 'chargePayment');
    expect(point?.eventId).toBeDefined();
    const { runId: newRunId } = await env.client.workflowService.resetWorkflowExecution({
      namespace: env.namespace,
      workflowExecution: { workflowId, runId },
      reason: 'test: reset past the compensation',
      workflowTaskFinishEventId: point?.eventId ?? null,
      requestId: randomUUID(),
    });
    if (!newRunId) throw new Error('reset answered no run ID');
    return newRunId;
  }

  it('a reset past a compensation tells the model the charge was undone; a completed task reports nothing in effect that is not', async () => {
    const t = await customer();
    const workflowId = `undone-${t.id}`;
    const first = await env.client.workflow.execute(agentWorkflow, {
      taskQueue: env.taskQueue,
      workflowId,
      args: [agentInput(t, 'agent-abort-after-charge')],
    });
    expect(first.status).toBe('compensated');
    expect(await downstream(t)).toEqual({ charges: 1, refunds: 1, net: 0, orders: ['cancelled'] });

    const newRunId = await resetBeforeCharge(workflowId);
    const handle = env.client.workflow.getHandle<typeof agentWorkflow>(workflowId, newRunId);
    const result = await handle.result();
    // The scripted model diverges: told the charge was undone, it stops instead of aborting.
    expect(result.status).toBe('completed');
    const charge = result.toolCalls.filter((c) => c.name === 'charge_payment').at(-1);
    expect(charge?.outcome).toBe('undone');
    const saga = await handle.query(sagaStateQuery);
    expect(saga.status).toBe('completed');
    // Neither step is reported in effect: the charge was told undone, the order (inherited from
    // history) was found undone before completing.
    expect(saga.steps.map((s) => [s.name.split(' ')[0], s.status])).toEqual([
      ['create_order', 'undone'],
      ['charge_payment', 'undone'],
    ]);
    expect(saga.steps.filter((s) => s.status === 'succeeded')).toEqual([]);
    // And nothing happened downstream again.
    expect(await downstream(t)).toEqual({ charges: 1, refunds: 1, net: 0, orders: ['cancelled'] });
    const calls = await handle.query(toolCallsQuery);
    expect(calls.filter((c) => c.outcome === 'replayed' && c.name === 'charge_payment')).toEqual([]);
  });

  it('a refund the model asks for undoes the charge: reported undone on completion, one refund on abort', async () => {
    const done = await customer();
    const completed = await env.client.workflow.execute(agentWorkflow, {
      taskQueue: env.taskQueue,
      workflowId: `refund-done-${done.id}`,
      args: [agentInput(done, 'agent-refund-then-done')],
    });
    expect(completed.status).toBe('completed');
    expect(completed.saga.steps.map((s) => [s.name.split(' ')[0], s.status])).toEqual([
      ['create_order', 'succeeded'],
      ['charge_payment', 'undone'],
    ]);
    expect(await downstream(done)).toEqual({ charges: 1, refunds: 1, net: 0, orders: ['created'] });

    const aborted = await customer();
    const compensated = await env.client.workflow.execute(agentWorkflow, {
      taskQueue: env.taskQueue,
      workflowId: `refund-abort-${aborted.id}`,
      args: [agentInput(aborted, 'agent-refund-then-abort')],
    });
    expect(compensated.status).toBe('compensated');
    expect(compensated.saga.status).toBe('compensated');
    expect(await downstream(aborted)).toEqual({ charges: 1, refunds: 1, net: 0, orders: ['cancelled'] });
  });

  it('an order saga reset past its compensation ends compensated again, with no new effect', async () => {
    const t = await customer();
    const input = orderInput(t, { failAfter: 'book_shipment' });
    const workflowId = `undone-order-${t.id}`;
    const first = await env.client.workflow
      .execute(orderWorkflow, { taskQueue: env.taskQueue, workflowId, args: [input] })
      .catch((err: unknown) => err);
    expect(first).toBeInstanceOf(WorkflowFailedError);
    const newRunId = await resetBeforeCharge(workflowId);
    const handle = env.client.workflow.getHandle<typeof orderWorkflow>(workflowId, newRunId);
    const error = await handle.result().catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect((error as WorkflowFailedError).cause).toMatchObject({ type: 'ORDER_COMPENSATED' });
    const saga = await handle.query(sagaStateQuery);
    expect(saga.status).toBe('compensated');
    // Local steps ran in one workflow task, so the reset re-runs them all from the order row: the first
    // step the ledger reports undone stops the saga. Either way nothing is in effect or done anew.
    expect(saga.steps.filter((s) => s.status === 'succeeded')).toEqual([]);
    expect(saga.steps.some((s) => s.status === 'undone')).toBe(true);
    expect(await downstream(t)).toEqual({ charges: 1, refunds: 1, net: 0, orders: ['cancelled'] });
  });

  it('a declined charge is not refunded: its compensation reads the stored decline and calls no one', async () => {
    const t = await customer();
    let error: unknown;
    const requests = await countPaymentsRequests(async () => {
      error = await env.client.workflow
        .execute(orderWorkflow, {
          taskQueue: env.taskQueue,
          workflowId: `declined-${t.id}`,
          args: [orderInput(t, { paymentMethod: 'pm_card_chargeDeclined' })],
        })
        .catch((err: unknown) => err);
    });
    expect(error).toBeInstanceOf(WorkflowFailedError);
    // One request: the declined charge. No search, no refund of a charge that never happened.
    expect(requests).toBe(1);
    const charge = await env.client.workflow
      .getHandle(`declined-${t.id}`)
      .query(sagaStateQuery)
      .then((s) => s.steps.find((step) => step.name === 'charge_payment'));
    const undo = await env.ledger.get(compensationKey(charge!.key!));
    expect(undo?.response).toMatchObject({ status: 'nothing_to_refund' });
    expect(await downstream(t)).toMatchObject({ charges: 0, refunds: 0, orders: ['cancelled'] });
  });

  it("tells the model Stripe's decline terms in the is_error result, and undoes without refunding", async () => {
    const t = await customer();
    // The scenario's third turn expects the tool result to carry "decline_code":"generic_decline";
    // the scripted model answers 400 (and the task fails) when it does not.
    let result: AgentResult | undefined;
    const requests = await countPaymentsRequests(async () => {
      result = await env.client.workflow.execute(agentWorkflow, {
        taskQueue: env.taskQueue,
        workflowId: `declined-agent-${t.id}`,
        args: [agentInput(t, 'agent-declined-charge')],
      });
    });
    if (!result) throw new Error('no result');
    expect(result.status).toBe('compensated');
    const charge = result.toolCalls.find((c) => c.name === 'charge_payment');
    expect(charge?.outcome).toBe('error');
    expect(requests).toBe(1);
    expect(await downstream(t)).toMatchObject({ charges: 0, refunds: 0, orders: ['cancelled'] });
  });
});
