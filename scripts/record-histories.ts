/**
 * Regenerates test/fixtures/histories/*.json: histories of representative runs that `npm test` replays
 * against the current workflow code (test/workflows/replay.test.ts), so a change that breaks
 * determinism fails CI. Run on purpose, after an intended, compatible change: `npm run record-histories`.
 * With names (`npm run record-histories -- agent-reset-past-undo`), only those fixtures are written and
 * the others keep the code that recorded them.
 */
import { randomUUID } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, WorkflowFailedError } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils.js';
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { loadConfig } from '../src/config.js';
import { createPool } from '../src/db/pool.js';
import { migrate } from '../src/db/migrate.js';
import { startStack } from '../src/dev/stack.js';
import { beforeFirstActivity } from '../src/reset-point.js';
import { startSandbox } from '../src/sandbox/index.js';
import { loadOrderConfig } from '../examples/order-ops/config.js';
import { migrateOrderTables } from '../examples/order-ops/db.js';
import { buildOrderDeps, createOrderWorker } from '../examples/order-ops/worker.js';
import { agentWorkflow, orderWorkflow, supportAgent } from '../examples/order-ops/workflows.js';
import { approveUpdate, agentStatusQuery } from '../src/workflows/index.js';

const OUT = join(import.meta.dirname, '..', 'test', 'fixtures', 'histories');
const ONLY = process.argv.slice(2);

Runtime.install({ logger: new DefaultLogger('ERROR') });
const scratch = mkdtempSync(join(tmpdir(), 'onceflow-histories-'));
chmodSync(scratch, 0o755);
const stack = await startStack({ mode: 'ephemeral', config: loadConfig({}), scratchDir: scratch });
const pool = createPool(stack.databaseUrl, 4);
await migrate(pool);
await migrateOrderTables(pool);
const sandbox = await startSandbox({ pool });
const a = sandbox.addresses;
const deps = buildOrderDeps(loadOrderConfig({}), pool, {
  paymentsUrl: a.payments.url,
  smtpUrl: a.smtp.url,
  emailLookupUrl: a.emailApi.url,
  modelBaseUrl: a.model.baseURL,
  mcpUrl: a.mcp.url,
});
const native = await NativeConnection.connect({ address: stack.temporalAddress });
const worker = await createOrderWorker({
  connection: native,
  namespace: stack.namespace,
  taskQueue: 'histories',
  deps,
});
const running = worker.run();
const connection = await Connection.connect({ address: stack.temporalAddress });
const client = new Client({ connection, namespace: stack.namespace });

async function customer(id: string) {
  await pool.query('INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)', [
    `cust_${id}`,
    'Fixture',
    `fixture-${id}@example.com`,
  ]);
  return `Order for customer_id=cust_${id} email=fixture-${id}@example.com as order_id=ord_${id}.`;
}

async function save(name: string, workflowId: string, runId?: string) {
  if (ONLY.length > 0 && !ONLY.includes(name)) return;
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory();
  // The workflow ID is part of the replay: intent keys derive from it.
  const json = historyToJSON(history);
  writeFileSync(
    join(OUT, `${name}.json`),
    `{"workflowId":${JSON.stringify(workflowId)},"history":${json}}\n`,
  );
  console.log(`recorded ${name} (${history.events?.length ?? 0} events)`);
}

const order = (id: string, failAfter?: 'book_shipment') => ({
  orderId: `ord_${id}`,
  customerId: `cust_${id}`,
  email: `fixture-${id}@example.com`,
  items: [{ sku: 'mug', quantity: 2, unitAmount: 1250 }],
  currency: 'usd',
  shippingAddress: { name: 'Ada', line1: '1 Loop St', city: 'Lyon', postalCode: '69001', country: 'FR' },
  ...(failAfter ? { failAfter } : {}),
});

try {
  mkdirSync(OUT, { recursive: true });
  const tq = { taskQueue: 'histories' };

  await client.workflow.execute(orderWorkflow, { ...tq, workflowId: 'order-happy', args: [order('happy')] });
  await save('order-happy-path', 'order-happy');

  await client.workflow
    .execute(orderWorkflow, { ...tq, workflowId: 'order-undo', args: [order('undo', 'book_shipment')] })
    .catch((e: unknown) => {
      if (!(e instanceof WorkflowFailedError)) throw e;
    });
  await save('order-compensation', 'order-undo');

  const approval = await client.workflow.start(agentWorkflow, {
    ...tq,
    workflowId: 'agent-approval',
    args: [{ prompt: await customer('approval'), scenario: 'agent-approval' }],
  });
  while (!(await approval.query(agentStatusQuery)).pendingApproval)
    await new Promise((r) => setTimeout(r, 100));
  await approval.executeUpdate(approveUpdate, { args: [{ by: 'fixture' }] });
  await approval.result();
  await save('agent-approval', 'agent-approval');

  const abort = await client.workflow.execute(agentWorkflow, {
    ...tq,
    workflowId: 'agent-abort',
    args: [{ prompt: await customer('abort'), scenario: 'agent-abort-after-charge' }],
  });
  if (abort.status !== 'compensated') throw new Error(`abort fixture ended ${abort.status}`);
  await save('agent-abort-compensation', 'agent-abort');

  const long = await client.workflow.start(agentWorkflow, {
    ...tq,
    workflowId: 'agent-long',
    args: [{ prompt: await customer('long'), scenario: 'agent-long-session', continueAsNewAfterTurns: 4 }],
  });
  await long.result();
  await save('agent-continue-as-new-first-run', 'agent-long', long.firstExecutionRunId);
  await save('agent-continue-as-new-last-run', 'agent-long');

  const reset = await client.workflow.start(agentWorkflow, {
    ...tq,
    workflowId: 'agent-reset',
    args: [{ prompt: await customer('reset'), scenario: 'agent-happy-path' }],
  });
  await reset.result();
  const events = (await reset.fetchHistory()).events ?? [];
  const point = beforeFirstActivity(events, 'chargePayment');
  const { runId } = await client.workflowService.resetWorkflowExecution({
    namespace: stack.namespace,
    workflowExecution: { workflowId: 'agent-reset', runId: reset.firstExecutionRunId },
    reason: 'fixture: reset to before the charge',
    workflowTaskFinishEventId: point?.eventId ?? null,
    requestId: randomUUID(),
  });
  await client.workflow.getHandle('agent-reset', runId ?? undefined).result();
  await save('agent-after-reset', 'agent-reset', runId ?? undefined);

  // A reset past a compensation: the charge is answered EFFECT_UNDONE, the model stops, and the run
  // checks its steps against the ledger before completing (the reconcile patch).
  const undone = await client.workflow.execute(agentWorkflow, {
    ...tq,
    workflowId: 'agent-reset-past-undo',
    args: [{ prompt: await customer('pastundo'), scenario: 'agent-abort-after-charge' }],
  });
  if (undone.status !== 'compensated') throw new Error(`reset-past-undo fixture ended ${undone.status}`);
  const undoneHandle = client.workflow.getHandle('agent-reset-past-undo');
  const undonePoint = beforeFirstActivity((await undoneHandle.fetchHistory()).events ?? [], 'chargePayment');
  const { runId: undoneRun } = await client.workflowService.resetWorkflowExecution({
    namespace: stack.namespace,
    workflowExecution: { workflowId: 'agent-reset-past-undo', runId: (await undoneHandle.describe()).runId },
    reason: 'fixture: reset past the compensation',
    workflowTaskFinishEventId: undonePoint?.eventId ?? null,
    requestId: randomUUID(),
  });
  const after = await client.workflow
    .getHandle<typeof agentWorkflow>('agent-reset-past-undo', undoneRun ?? undefined)
    .result();
  if (after.saga.steps.some((s) => s.status !== 'undone')) throw new Error('steps not undone after reset');
  await save('agent-reset-past-undo', 'agent-reset-past-undo', undoneRun ?? undefined);

  // The support agent's MCP tools: listed at the start of the first run, a ticket opened, continue-as-new,
  // then abort_task in the next run undoes the ticket through delete_ticket (mcpUndoTool).
  const support = await client.workflow.start(supportAgent, {
    ...tq,
    workflowId: 'support-mcp',
    args: [
      {
        prompt: 'Open a ticket: ticket_ref=T-fixture customer_id=cust_support, the parcel is late.',
        scenario: 'desk-ticket-then-abort',
        continueAsNewAfterTurns: 1,
      },
    ],
  });
  const supportResult = await support.result();
  if (supportResult.status !== 'compensated')
    throw new Error(`support fixture ended ${supportResult.status}`);
  await save('support-mcp-first-run', 'support-mcp', support.firstExecutionRunId);
  await save('support-mcp-last-run', 'support-mcp');
} finally {
  worker.shutdown();
  await running;
  await native.close();
  await connection.close();
  await deps.ledger.close();
  deps.downstream.mailer.close();
  await sandbox.stop();
  await pool.end();
  await stack.stop();
  rmSync(scratch, { recursive: true, force: true });
}
