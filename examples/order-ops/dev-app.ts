/** The order example as `npm start` runs it: its worker, demo customers and a scripted agent session. */
import type { DevApp } from 'onceflow/testing';
import type { AgentResult } from 'onceflow/workflow';
import { loadOrderConfig } from './config.js';
import { DEMO_CUSTOMERS, seedDemoData } from './seed.js';
import { ORDER_TASKS } from './tasks.js';
import { buildOrderDeps, createOrderWorker } from './worker.js';

const app: DevApp = {
  name: 'order-ops',
  tasks: ORDER_TASKS,
  seed: seedDemoData,
  async startWorker(ctx) {
    const deps = buildOrderDeps(loadOrderConfig(), ctx.pool, ctx.sandbox);
    const worker = await createOrderWorker({
      connection: ctx.connection,
      namespace: ctx.namespace,
      taskQueue: ctx.taskQueue,
      deps,
      codec: ctx.codec,
    });
    return {
      worker,
      describe: deps.downstream.describe,
      close: async () => {
        await deps.ledger.close();
        deps.downstream.mailer.close();
      },
    };
  },
  /**
   * The demo agent session: the scripted model plays `agent-happy-path` for the seeded customer
   * cust_42. Each start uses a fresh order reference, so every start is a new task.
   */
  async demo({ client, taskQueue, log }) {
    const stamp = new Date()
      .toISOString()
      .replace(/[-:TZ.]/g, '')
      .slice(0, 14);
    const orderId = `ord_${stamp}`;
    const workflowId = `demo-${orderId}`;
    const customer = DEMO_CUSTOMERS[0];
    log(`demo: agent session ${workflowId} (scripted model, scenario agent-happy-path)`);
    const handle = await client.workflow.start('agentWorkflow', {
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
    const result = (await handle.result()) as AgentResult;
    for (const call of result.toolCalls) {
      log(
        `  turn ${call.turn}: ${call.name} → ${call.outcome}${call.key ? ` (${call.key.slice(0, 12)}…)` : ''}`,
      );
    }
    log(`demo: ${result.status}: ${result.finalText}`);
    log(
      `demo: ${result.usage.turns} model turns, ${result.usage.inputTokens + result.usage.outputTokens} tokens`,
    );
    return { workflowId, runId: handle.firstExecutionRunId };
  },
};

export default app;
