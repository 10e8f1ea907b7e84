import { randomUUID } from 'node:crypto';
import {
  ApplicationFailure,
  WorkflowExecutionAlreadyStartedError,
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
  type Client,
} from '@temporalio/client';
import type pg from 'pg';
import type { Duration } from '@temporalio/common';
import { deriveIntent } from '../../src/idempotency/keys.js';
import { beforeFirstActivity } from '../../src/reset-point.js';
import type { Sandbox } from '../../src/sandbox/index.js';
import { chargePayment, sendEmail } from '../../examples/order-ops/tools.js';
import type { AgentInput, AgentResult } from '../../src/workflows/agent-state.js';
import { agentWorkflow, orderWorkflow } from '../../examples/order-ops/workflows.js';
import { sagaStateQuery } from '../../src/workflows/index.js';
import type { SagaState } from '../../src/workflows/saga.js';
import type { OrderInput, OrderResult } from '../../examples/order-ops/order-saga.js';
import type { TaskOutcome, TaskState } from './audit.js';
import type { TaskPlan } from './plan.js';

/** What a task needs from the run. */
export interface TaskContext {
  client: Client;
  pool: pg.Pool;
  sandbox: Sandbox;
  taskQueue: string;
  /** Kills the worker process with this identity (`pid@host`); false when it is not one of ours. */
  killWorker: (identity: string | undefined) => Promise<boolean>;
  count: (fault: string) => void;
  timeoutMs: number;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** The keys the workflow will derive for this task's charge and confirmation email. */
export function taskKeys(plan: TaskPlan) {
  const charge = deriveIntent({
    scope: plan.workflowId,
    tool: chargePayment.name,
    input: { orderId: plan.orderId },
    identityFields: chargePayment.effect!.identityFields,
    stableFields: [],
  }).key;
  const email = deriveIntent({
    scope: plan.workflowId,
    tool: sendEmail.name,
    input: { orderId: plan.orderId, to: plan.email, template: 'order_confirmation' },
    identityFields: sendEmail.effect!.identityFields,
    stableFields: [],
  }).key;
  return { charge, email, messageId: `<${email}@onceflow>` };
}

function stateOf(err: unknown): { state: TaskState; reason: string } {
  if (err instanceof WorkflowFailedError) {
    const cause = err.cause;
    if (cause instanceof ApplicationFailure) {
      if (cause.type === 'COMPENSATION_FAILED')
        return { state: 'compensation_failed', reason: cause.message };
      if (cause.type === 'ORDER_COMPENSATED' || cause.type === 'AGENT_FAILED') {
        return { state: 'compensated', reason: cause.message };
      }
    }
    return { state: 'failed', reason: cause?.message ?? err.message };
  }
  return { state: 'failed', reason: err instanceof Error ? err.message : String(err) };
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => setTimeout(() => reject(new Error(`not finished within ${ms} ms`)), ms)),
  ]);
}

function orderInput(plan: TaskPlan, effectTimeout: Duration | undefined): OrderInput {
  return {
    orderId: plan.orderId,
    customerId: plan.customerId,
    email: plan.email,
    items: [
      { sku: 'mug', quantity: 2, unitAmount: 1250 },
      { sku: 'tea', quantity: 1, unitAmount: 2499 },
    ],
    currency: 'usd',
    shippingAddress: { name: 'Chaos', line1: '1 Fault Ln', city: 'Lyon', postalCode: '69001', country: 'FR' },
    ...(plan.failAfter ? { failAfter: plan.failAfter } : {}),
    ...(plan.declined ? { paymentMethod: 'pm_card_chargeDeclined' } : {}),
    ...(effectTimeout ? { effectTimeout } : {}),
    ...(plan.execution ? { execution: plan.execution } : {}),
    compensationRetry: {
      initialInterval: '200 milliseconds',
      maximumInterval: '2 seconds',
      maximumAttempts: 20,
    },
  };
}

function agentInput(plan: TaskPlan, effectTimeout: Duration | undefined): AgentInput {
  return {
    prompt: `Order 2 mugs and tea for customer_id=${plan.customerId} email=${plan.email} as order_id=${plan.orderId}.`,
    customerId: plan.customerId,
    scenario: plan.scenario ?? 'agent-happy-path',
    ...(effectTimeout ? { effectTimeout } : {}),
    compensationRetry: {
      initialInterval: '200 milliseconds',
      maximumInterval: '2 seconds',
      maximumAttempts: 20,
    },
  };
}

/** Arms the sandbox faults aimed at this task's keys. */
function armFaults(plan: TaskPlan, ctx: TaskContext): void {
  const keys = taskKeys(plan);
  const payments = { method: 'POST', path: '/v1/payment_intents', idempotencyKey: keys.charge };
  for (const fault of plan.faults) {
    if (fault === 'drop')
      ctx.sandbox.faults.payments.add([{ match: payments, fault: 'drop_after_commit', times: 2 }]);
    if (fault === 'fail5xx') {
      ctx.sandbox.faults.payments.add([{ match: payments, fault: 'fail_before_commit', times: 2 }]);
      ctx.sandbox.faults.email.add([
        { match: { messageId: keys.messageId }, fault: 'fail_before_commit', times: 1 },
      ]);
    }
    if (fault === 'smtpDrop') {
      ctx.sandbox.faults.email.add([
        { match: { messageId: keys.messageId }, fault: 'drop_after_commit', times: 1 },
      ]);
    }
    if (fault === 'timeout')
      ctx.sandbox.faults.payments.add([{ match: payments, fault: 'latency', latencyMs: 4_000 }]);
    if (fault === 'kill') {
      ctx.sandbox.faults.payments.add([{ match: payments, fault: 'delay_after_commit', latencyMs: 15_000 }]);
    }
  }
}

/**
 * Waits for the charge to commit at the payments API, then SIGKILLs the worker holding the claim: the
 * ledger row's lease owner (`host:pid:…`) names it whether the charge runs as a regular activity or a
 * local one (which has no pending activity to describe).
 */
async function killAfterCommit(plan: TaskPlan, ctx: TaskContext, done: () => boolean): Promise<void> {
  const { charge } = taskKeys(plan);
  const deadline = Date.now() + ctx.timeoutMs;
  while (!done() && Date.now() < deadline) {
    const { rowCount } = await ctx.pool.query(
      `SELECT 1 FROM sandbox.payment_intents WHERE metadata ->> 'onceflow_key' = $1`,
      [charge],
    );
    if (rowCount) break;
    await sleep(100);
  }
  if (done()) return;
  const { rows } = await ctx.pool.query<{ lease_owner: string | null }>(
    'SELECT lease_owner FROM idempotency_ledger WHERE key = $1',
    [charge],
  );
  const pid = rows[0]?.lease_owner?.split(':')[1];
  const local = plan.kind === 'agent' || plan.execution === 'local';
  if (await ctx.killWorker(pid ? `${pid}@` : undefined)) ctx.count(local ? 'killLocal' : 'kill');
}

/** Resets a finished task to the workflow task before its charge; returns the new run's id. */
async function resetBeforeCharge(plan: TaskPlan, ctx: TaskContext): Promise<string | undefined> {
  const handle = ctx.client.workflow.getHandle(plan.workflowId);
  const { runId } = await handle.describe();
  const events = (await handle.fetchHistory()).events ?? [];
  const point = beforeFirstActivity(events, 'chargePayment');
  if (!point?.eventId) return undefined;
  const response = await ctx.client.workflowService.resetWorkflowExecution({
    namespace: ctx.client.options.namespace,
    workflowExecution: { workflowId: plan.workflowId, runId },
    reason: 'chaos: reset to before the charge',
    workflowTaskFinishEventId: point.eventId,
    requestId: randomUUID(),
  });
  return response.runId ?? undefined;
}

/**
 * Starts the finished task again the way a retrying backend would, and returns the run ID the start
 * answered with: the finished run's when the start deduplicated, a new one when it ran the task again.
 */
async function startAgain(
  plan: TaskPlan,
  ctx: TaskContext,
  start: () => Promise<{ firstExecutionRunId: string }>,
): Promise<string> {
  ctx.count('startAfterDone');
  try {
    await start();
  } catch (err) {
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  const { runId } = await ctx.client.workflow.getHandle(plan.workflowId).describe();
  return runId;
}

/** The saga state of the task's final run, as its query reports it; undefined when it cannot be read. */
async function finalSaga(
  plan: TaskPlan,
  ctx: TaskContext,
  runId: string | undefined,
): Promise<SagaState | undefined> {
  // A query of a closed run needs a worker to replay it: a killed worker is being replaced, or an
  // overloaded one times the query out. Back off up to ~30 s before calling the state unreadable.
  for (let attempt = 0; attempt < 6; attempt++) {
    try {
      return await ctx.client.workflow.getHandle(plan.workflowId, runId).query(sagaStateQuery);
    } catch {
      await sleep(1000 * 2 ** attempt);
    }
  }
  return undefined;
}

/** A failed (compensated) order saga reset to before its charge: how the new run ended. */
async function resetAfterFailure(
  plan: TaskPlan,
  ctx: TaskContext,
): Promise<Omit<TaskOutcome, 'latencyMs'> | undefined> {
  const newRun = await resetBeforeCharge(plan, ctx);
  if (!newRun) return undefined;
  ctx.count(plan.faults.includes('resetPastUndo') ? 'resetPastUndo' : 'reset');
  const handle = ctx.client.workflow.getHandle<typeof orderWorkflow>(plan.workflowId, newRun);
  let outcome: { state: TaskState; reason?: string };
  try {
    const result = await withTimeout(handle.result(), ctx.timeoutMs);
    outcome = { state: result.status };
  } catch (err) {
    if (!(err instanceof WorkflowFailedError)) throw err;
    outcome = stateOf(err);
  }
  return { plan, ...outcome, saga: await finalSaga(plan, ctx, newRun) };
}

/** For an unfinished task: what its run is waiting on, from the server's view. */
async function whereStuck(plan: TaskPlan, ctx: TaskContext): Promise<string> {
  try {
    const { raw, status } = await ctx.client.workflow.getHandle(plan.workflowId).describe();
    const pending = (raw.pendingActivities ?? []).map(
      (a) =>
        `${a.activityType?.name ?? '?'} attempt ${a.attempt ?? 0}: ${a.lastFailure?.message ?? 'no failure yet'}`,
    );
    return ` (${status.name}; pending: ${pending.join(' | ') || 'none'})`;
  } catch (err) {
    return ` (describe failed: ${String(err)})`;
  }
}

/** Runs one planned task with its faults; returns how it ended. */
export async function runTask(plan: TaskPlan, ctx: TaskContext): Promise<TaskOutcome> {
  const started = Date.now();
  armFaults(plan, ctx);
  const slow = plan.faults.includes('kill') || plan.faults.includes('timeout');
  const effectTimeout: Duration | undefined = slow ? '3 seconds' : undefined;
  const options = {
    taskQueue: ctx.taskQueue,
    workflowId: plan.workflowId,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    // A finished task is never run again by a start: re-running it is a reset, never a retry's side effect.
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
  };
  const start = () =>
    plan.kind === 'order'
      ? ctx.client.workflow.start(orderWorkflow, { ...options, args: [orderInput(plan, effectTimeout)] })
      : ctx.client.workflow.start(agentWorkflow, { ...options, args: [agentInput(plan, effectTimeout)] });
  let finished = false;
  try {
    const starts = plan.faults.includes('dupStart')
      ? await Promise.all([start(), start(), start()])
      : [await start()];
    if (starts.length > 1) ctx.count('dupStart');
    if (new Set(starts.map((h) => h.firstExecutionRunId)).size !== 1) {
      return {
        plan,
        state: 'failed',
        reason: 'duplicate starts created more than one run',
        latencyMs: Date.now() - started,
      };
    }
    const killer = plan.faults.includes('kill')
      ? killAfterCommit(plan, ctx, () => finished).catch(() => undefined)
      : Promise.resolve();
    const first = starts[0]!.result() as Promise<OrderResult | AgentResult>;
    let result = await withTimeout(first, ctx.timeoutMs).finally(() => {
      finished = true;
    });
    await killer;
    let runId = starts[0]!.firstExecutionRunId;
    let failure: Error | undefined;
    if (plan.faults.includes('reset') || plan.faults.includes('resetPastUndo')) {
      const newRun = await resetBeforeCharge(plan, ctx);
      if (newRun) {
        ctx.count(plan.faults.includes('resetPastUndo') ? 'resetPastUndo' : 'reset');
        runId = newRun;
        try {
          result = await withTimeout(
            ctx.client.workflow.getHandle<typeof agentWorkflow>(plan.workflowId, newRun).result(),
            ctx.timeoutMs,
          );
        } catch (err) {
          failure = err instanceof Error ? err : new Error(String(err));
        }
      }
    }
    if (plan.faults.includes('startAfterDone')) {
      const again = await startAgain(plan, ctx, start);
      if (again !== runId) {
        return {
          plan,
          state: 'failed',
          reason: `a start after the task finished ran it again (run ${again} after ${runId})`,
          latencyMs: Date.now() - started,
        };
      }
    }
    const saga = await finalSaga(plan, ctx, runId);
    if (failure !== undefined) {
      if (failure instanceof WorkflowFailedError) {
        return { plan, ...stateOf(failure), saga, latencyMs: Date.now() - started };
      }
      throw failure;
    }
    const state: TaskState = result.status === 'completed' ? 'completed' : result.status;
    const reason = 'reason' in result ? result.reason : undefined;
    return { plan, state, ...(reason ? { reason } : {}), saga, latencyMs: Date.now() - started };
  } catch (err) {
    finished = true;
    if (err instanceof WorkflowFailedError) {
      const saga = await finalSaga(plan, ctx, undefined);
      if (plan.faults.includes('resetPastUndo') || plan.faults.includes('reset')) {
        // Order sagas fail (compensated) before any reset; reset them past that compensation too.
        const reset = await resetAfterFailure(plan, ctx);
        if (reset) return { ...reset, latencyMs: Date.now() - started };
      }
      if (plan.faults.includes('startAfterDone')) {
        const { runId } = await ctx.client.workflow.getHandle(plan.workflowId).describe();
        const again = await startAgain(plan, ctx, start);
        if (again !== runId) {
          return {
            plan,
            state: 'failed',
            reason: `a start after the task failed ran it again (run ${again} after ${runId})`,
            latencyMs: Date.now() - started,
          };
        }
      }
      return { plan, ...stateOf(err), saga, latencyMs: Date.now() - started };
    }
    return {
      plan,
      state: 'unfinished',
      reason: `${String(err)}${await whereStuck(plan, ctx)}`,
      latencyMs: Date.now() - started,
    };
  }
}
