import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityCalls } from '../../src/history/activity-calls.js';
import { beforeFirstActivity } from '../../src/reset-point.js';
import { auditEmail, auditPayments } from '../../src/sandbox/audit.js';
import { agentWorkflow } from '../../examples/order-ops/workflows.js';
import {
  agentStatusQuery,
  approveUpdate,
  denyUpdate,
  sagaStateQuery,
  toolCallsQuery,
  type AgentInput,
  type AgentResult,
  type PendingApproval,
} from '../../src/workflows/index.js';
import { DUPLICATES_PREVENTED, TASK_STATUS } from '../../src/workflows/search-attributes.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

interface Task {
  orderId: string;
  customerId: string;
  email: string;
  input: AgentInput;
}

describe('agentWorkflow: the tool-use loop against the scripted model', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
    await env.startWorker();
  });
  afterAll(async () => {
    await env.close();
  });

  async function task(scenario: string, overrides: Partial<AgentInput> = {}): Promise<Task> {
    const id = randomUUID().slice(0, 8);
    const t = { orderId: `ord_${id}`, customerId: `cust_${id}`, email: `buyer-${id}@example.com` };
    await env.pool.query('INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)', [
      t.customerId,
      `Buyer ${id}`,
      t.email,
    ]);
    return {
      ...t,
      input: {
        prompt: `Please order 2 mugs and tea for customer_id=${t.customerId} email=${t.email} as order_id=${t.orderId}.`,
        customerId: t.customerId,
        scenario,
        compensationRetry: { initialInterval: '100 milliseconds', maximumAttempts: 3 },
        ...overrides,
      },
    };
  }

  const run = (t: Task, workflowId = `agent-${t.orderId}`) =>
    env.client.workflow.execute(agentWorkflow, { taskQueue: env.taskQueue, workflowId, args: [t.input] });

  async function truth(t: Task) {
    const payments = (await auditPayments(env.pool, { customer: t.customerId })).customers[0];
    const email = (await auditEmail(env.pool, { to: t.email })).recipients[0];
    const orders = await env.pool.query<{ status: string }>('SELECT status FROM orders WHERE order_id = $1', [
      t.orderId,
    ]);
    const shipments = await env.pool.query<{ status: string }>(
      'SELECT status FROM shipments WHERE order_id = $1',
      [t.orderId],
    );
    return {
      charges: payments?.charges ?? 0,
      charged: payments?.charged ?? 0,
      refunds: payments?.refunds ?? 0,
      net: payments?.net ?? 0,
      messages: email?.messages ?? 0,
      orders: orders.rows.map((r) => r.status),
      shipments: shipments.rows.map((r) => r.status),
    };
  }

  it('completes the happy path with one of each effect', async () => {
    const t = await task('agent-happy-path');
    const result = await run(t);
    expect(result.status).toBe('completed');
    expect(result.finalText).toContain(t.orderId);
    expect(result.toolCalls.map((c) => [c.name, c.outcome])).toEqual([
      ['lookup_customer', 'read'],
      ['create_order', 'executed'],
      ['charge_payment', 'executed'],
      ['book_shipment', 'executed'],
      ['send_email', 'executed'],
    ]);
    expect(result.toolCalls.filter((c) => c.key).every((c) => c.key?.startsWith('ik_'))).toBe(true);
    expect(result.usage.turns).toBe(5);
    expect(result.usage.inputTokens).toBeGreaterThan(0);
    expect(await truth(t)).toEqual({
      charges: 1,
      charged: 4999,
      refunds: 0,
      net: 4999,
      messages: 1,
      orders: ['created'],
      shipments: ['booked'],
    });
    const description = await env.client.workflow.getHandle(`agent-${t.orderId}`).describe();
    expect(description.typedSearchAttributes.get(TASK_STATUS)).toBe('completed');
  });

  it('replays the stored charge when the model asks again in a later turn, and tells the model', async () => {
    const t = await task('agent-repeat-charge');
    const result = await run(t);
    expect(result.status).toBe('completed');
    const charges = result.toolCalls.filter((c) => c.name === 'charge_payment');
    expect(charges.map((c) => c.outcome)).toEqual(['executed', 'replayed']);
    expect(charges[0]?.key).toBe(charges[1]?.key);
    expect(result.duplicatesPrevented).toBe(1);
    expect(await truth(t)).toMatchObject({ charges: 1, charged: 4999 });
    const description = await env.client.workflow.getHandle(`agent-${t.orderId}`).describe();
    expect(description.typedSearchAttributes.get(DUPLICATES_PREVENTED)).toBe(1);
  });

  it.each(['agent-invalid-input', 'agent-missing-field'])(
    'turns invalid tool input into is_error, which the model corrects (%s)',
    async (scenario) => {
      const t = await task(scenario);
      const result = await run(t);
      expect(result.status).toBe('completed');
      expect(result.toolCalls.map((c) => c.outcome)).toContain('invalid');
      expect(result.toolCalls.at(-1)?.outcome).toBe('executed');
    },
  );

  it('answers an unknown tool with is_error and completes', async () => {
    const t = await task('agent-unknown-tool');
    const result = await run(t);
    expect(result.status).toBe('completed');
    expect(result.toolCalls[0]).toMatchObject({ name: 'teleport_package', outcome: 'invalid' });
  });

  it('undoes everything in reverse, once, when the model calls abort_task', async () => {
    const t = await task('agent-abort-after-charge');
    const result = await run(t);
    expect(result.status).toBe('compensated');
    expect(result.reason).toContain('customer cancelled');
    expect(result.saga.steps.map((s) => [s.name.split(' ')[0], s.status])).toEqual([
      ['create_order', 'compensated'],
      ['charge_payment', 'compensated'],
      ['book_shipment', 'compensated'],
    ]);
    const history = await env.client.workflow.getHandle(`agent-${t.orderId}`).fetchHistory();
    const scheduled = activityCalls(history.events ?? []).map((c) => c.type);
    expect(scheduled.slice(-3)).toEqual(['releaseShipment', 'refundPayment', 'cancelOrder']);
    expect(await truth(t)).toEqual({
      charges: 1,
      charged: 4999,
      refunds: 1,
      net: 0,
      messages: 0,
      orders: ['cancelled'],
      shipments: ['released'],
    });
  });

  async function waitForApproval(workflowId: string) {
    const handle = env.client.workflow.getHandle(workflowId);
    for (let i = 0; i < 200; i++) {
      const status = await handle.query(agentStatusQuery).catch(() => undefined);
      if (status?.pendingApproval) return handle;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error('no approval requested');
  }

  /** The approval asked after `first` (another call), once it waits. */
  async function nextApproval(handle: Awaited<ReturnType<typeof waitForApproval>>, first: PendingApproval) {
    let next = first;
    for (let i = 0; i < 200 && next.toolUseId === first.toolUseId; i++) {
      await new Promise((r) => setTimeout(r, 100));
      next = (await handle.query(agentStatusQuery)).pendingApproval ?? first;
    }
    return next;
  }

  /** The re-decided charge scenario's end: executed once, replayed, then a conflict; one charge. */
  async function expectOneChargeRedecided(t: Awaited<ReturnType<typeof task>>, result: AgentResult) {
    expect(result.toolCalls.filter((c) => c.name === 'charge_payment').map((c) => c.outcome)).toEqual([
      'executed',
      'replayed',
      'conflict',
    ]);
    expect(await truth(t)).toMatchObject({ charges: 1, charged: 25000 });
  }

  it('charges above the limit only after a person approves', async () => {
    const t = await task('agent-approval');
    const workflowId = `agent-${t.orderId}`;
    const done = run(t, workflowId);
    const handle = await waitForApproval(workflowId);
    expect((await handle.describe()).typedSearchAttributes.get(TASK_STATUS)).toBe('waiting_approval');
    expect(await truth(t)).toMatchObject({ charges: 0 });
    const pending = await handle.executeUpdate(approveUpdate, { args: [{ by: 'ops@example.com' }] });
    expect(pending.tool).toBe('charge_payment');
    const result = await done;
    expect(result.finalText).toContain('after approval');
    expect(await truth(t)).toMatchObject({ charges: 1, charged: 25000 });
  });

  it('binds an approval to one effect: the same terms re-decided keep it, other terms ask again', async () => {
    const t = await task('agent-approval-redecided');
    const workflowId = `agent-${t.orderId}`;
    const done = run(t, workflowId);
    const handle = await waitForApproval(workflowId);
    const first = (await handle.query(agentStatusQuery)).pendingApproval!;
    expect(first).toMatchObject({ tool: 'charge_payment', key: expect.stringMatching(/^ik_/) as unknown });
    // A decision meant for another effect is refused, not applied to this one.
    await expect(
      handle.executeUpdate(approveUpdate, { args: [{ by: 'ops@example.com', key: 'ik_someOtherEffect' }] }),
    ).rejects.toThrow();
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'ops@example.com', key: first.key! }] });
    // Turn 3 repeats the charge with the same terms: no new approval, replayed. Turn 4 changes the
    // amount: same key, other terms, so a person is asked again.
    const second = await nextApproval(handle, first);
    expect(second.key).toBe(first.key);
    expect(second.fingerprint).not.toBe(first.fingerprint);
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'lead@example.com', key: second.key! }] });
    const result = await done;
    await expectOneChargeRedecided(t, result);
    // The ledger's audit shows who approved which terms of the effect.
    const approvals = await env.ledger.approvals(workflowId);
    expect(approvals.map((a) => [a.key, a.fingerprint, a.approvedBy])).toEqual([
      [first.key, first.fingerprint, 'ops@example.com'],
      [first.key, second.fingerprint, 'lead@example.com'],
    ]);
    expect(approvals[0]!.reason).toContain('exceeds the approval limit');
  });

  it('keeps an approval across continue-as-new: the same effect re-decided in the next run is not asked again', async () => {
    // Continue-as-new after turn 2 (the approved charge): turn 3 re-decides it in the next run.
    const t = await task('agent-approval-redecided', { continueAsNewAfterTurns: 2 });
    const workflowId = `agent-${t.orderId}`;
    const done = run(t, workflowId);
    const handle = await waitForApproval(workflowId);
    const first = (await handle.query(agentStatusQuery)).pendingApproval!;
    const firstRun = (await handle.describe()).runId;
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'ops@example.com', key: first.key! }] });
    const second = await nextApproval(handle, first);
    // The next approval asked is turn 4's other terms, in a later run: turn 3's same terms kept theirs.
    expect((await handle.describe()).runId).not.toBe(firstRun);
    expect(second.fingerprint).not.toBe(first.fingerprint);
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'lead@example.com', key: second.key! }] });
    const result = await done;
    await expectOneChargeRedecided(t, result);
    expect((await env.ledger.approvals(workflowId)).map((a) => a.approvedBy)).toEqual([
      'ops@example.com',
      'lead@example.com',
    ]);
  });

  it('does not charge when a person denies, and tells the model', async () => {
    const t = await task('agent-approval');
    const workflowId = `agent-${t.orderId}`;
    const done = run(t, workflowId);
    const handle = await waitForApproval(workflowId);
    await handle.executeUpdate(denyUpdate, { args: [{ note: 'too large' }] });
    const result = await done;
    expect(result.finalText).toContain('not approved');
    expect(result.toolCalls.find((c) => c.name === 'charge_payment')?.outcome).toBe('denied');
    expect(await truth(t)).toMatchObject({ charges: 0 });
  });

  it('treats an approval timeout as a denial', async () => {
    const t = await task('agent-approval', { approvalTimeout: '1 second' });
    const result = await run(t);
    expect(result.finalText).toContain('not approved');
    expect(result.toolCalls.find((c) => c.name === 'charge_payment')).toMatchObject({
      outcome: 'denied',
      error: 'approval timed out',
    });
    expect(await truth(t)).toMatchObject({ charges: 0 });
  });

  it('rejects an approval when nothing is waiting', async () => {
    const t = await task('agent-happy-path');
    const workflowId = `agent-${t.orderId}`;
    await run(t, workflowId);
    const handle = env.client.workflow.getHandle(workflowId);
    await expect(handle.executeUpdate(approveUpdate, { args: [{}] })).rejects.toThrow();
  });

  it('keeps keys stable across continue-as-new: the repeated charge is replayed', async () => {
    const t = await task('agent-long-session', { continueAsNewAfterTurns: 3 });
    const workflowId = `agent-${t.orderId}`;
    const handle = await env.client.workflow.start(agentWorkflow, {
      taskQueue: env.taskQueue,
      workflowId,
      args: [t.input],
    });
    const result = await handle.result();
    expect(result.status).toBe('completed');
    const charges = result.toolCalls.filter((c) => c.name === 'charge_payment');
    expect(charges.map((c) => c.outcome)).toEqual(['executed', 'replayed']);
    expect(result.usage.turns).toBe(10);
    expect(result.usage.turnsReused).toBeGreaterThanOrEqual(9);
    expect(await truth(t)).toMatchObject({ charges: 1, charged: 4999 });
    // The latest run is not the first: the session continued as new at least once.
    expect((await env.client.workflow.getHandle(workflowId).describe()).runId).not.toBe(
      handle.firstExecutionRunId,
    );
  });

  it('fails a turn with a terminal error on an invalid model response, and compensates', async () => {
    const t = await task('agent-invalid-response');
    const error = await run(t).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(WorkflowFailedError);
    expect(JSON.stringify((error as WorkflowFailedError).cause?.message)).toContain('no text or tool_use');
    const state = await env.client.workflow.getHandle(`agent-${t.orderId}`).query(sagaStateQuery);
    expect(state.status).toBe('compensated');
    expect(await truth(t)).toMatchObject({ orders: ['cancelled'] });
  });

  it('after a reset to before the charge, the model charges again and the ledger replays it', async () => {
    const t = await task('agent-happy-path');
    const workflowId = `agent-${t.orderId}`;
    await run(t, workflowId);
    const handle = env.client.workflow.getHandle(workflowId);
    const { runId } = await handle.describe();
    const events = (await handle.fetchHistory()).events ?? [];
    // The reset point: the workflow task that completed just before the charge was decided.
    const resetPoint = beforeFirstActivity(events, 'chargePayment');
    expect(resetPoint).toBeDefined();
    const { runId: newRunId } = await env.client.workflowService.resetWorkflowExecution({
      namespace: env.namespace,
      workflowExecution: { workflowId, runId },
      reason: 'test: reset to before the charge',
      workflowTaskFinishEventId: resetPoint?.eventId ?? null,
      requestId: randomUUID(),
    });
    const result = await env.client.workflow
      .getHandle<typeof agentWorkflow>(workflowId, newRunId ?? undefined)
      .result();
    expect(result.status).toBe('completed');
    const calls = await env.client.workflow
      .getHandle(workflowId, newRunId ?? undefined)
      .query(toolCallsQuery);
    expect(calls.find((c) => c.name === 'charge_payment')?.outcome).toBe('replayed');
    expect(result.usage.turnsReused).toBeGreaterThanOrEqual(2);
    expect(await truth(t)).toMatchObject({ charges: 1, charged: 4999, messages: 1, shipments: ['booked'] });
  });
});
