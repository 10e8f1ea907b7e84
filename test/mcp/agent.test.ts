import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { ActivityFailure, WorkflowFailedError } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { supportAgent, type SupportAgentInput } from '../../examples/order-ops/support-agent.js';
import { AesGcmCodec } from '../../src/codec/aes-gcm.js';
import { activityCalls } from '../../src/history/activity-calls.js';
import { undoKeyOf } from '../../src/tools/intent.js';
import { TASK_STATUS } from '../../src/workflows/search-attributes.js';
import {
  agentStatusQuery,
  approveUpdate,
  mcpToolsQuery,
  transcriptQuery,
} from '../../src/workflows/index.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { spawnWorkerProcess } from '../support/worker-process.js';
import { waitFor } from '../support/wait.js';

interface DeskCall {
  tool: string;
  outcome: string;
  intent_key: string | null;
}

/**
 * An agent whose tools come from the sandbox support desk over MCP (Streamable HTTP), on the dev server,
 * with payload encryption on as `npm start` runs: the model re-deciding a ticket, a worker killed after
 * the desk committed, `abort_task` undoing a ticket through `delete_ticket`, an approval, and the desk
 * changing its tools mid-session.
 */
describe('supportAgent: MCP tools as durable, keyed, compensatable tools', () => {
  let env: TestEnv;
  const key = randomBytes(32);
  const codec = new AesGcmCodec(new Map([['mcp', key]]), 'mcp');
  beforeAll(async () => {
    env = await createTestEnv({ codec });
    await env.startWorker();
  });
  afterAll(async () => {
    await env.close();
  });

  function task(scenario: string, extra: Partial<SupportAgentInput> = {}) {
    const id = randomUUID().slice(0, 8);
    const ticketRef = `T-${id}`;
    const customerId = `cust_${id}`;
    const input: SupportAgentInput = {
      prompt: `Open a ticket: ticket_ref=${ticketRef} customer_id=${customerId}, parcel for order 7 is late.`,
      customerId,
      scenario,
      compensationRetry: { initialInterval: '100 milliseconds', maximumAttempts: 3 },
      ...extra,
    };
    return { id, ticketRef, customerId, input, workflowId: `support-${id}` };
  }

  async function tickets(ref: string): Promise<{ id: string; status: string }[]> {
    const { rows } = await env.pool.query<{ id: string; status: string }>(
      'SELECT id, status FROM sandbox.mcp_tickets WHERE ticket_ref = $1',
      [ref],
    );
    return rows;
  }
  async function deskCalls(tool: string, customerId: string): Promise<DeskCall[]> {
    const { rows } = await env.pool.query<DeskCall>(
      `SELECT tool, outcome, intent_key FROM sandbox.mcp_calls
        WHERE tool = $1 AND (arguments->>'customer_id' = $2 OR arguments->>'ticket_id' IN
              (SELECT id FROM sandbox.mcp_tickets WHERE customer_id = $2))
        ORDER BY id`,
      [tool, customerId],
    );
    return rows;
  }
  const admin = (path: string, body: unknown) =>
    fetch(new URL(path, env.sandbox.addresses.mcp.url), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  it('a ticket the model re-decides in a later turn is opened once; the second call is replayed from the ledger', async () => {
    const t = task('desk-ticket-redecided');
    const result = await env.client.workflow.execute(supportAgent, {
      taskQueue: env.taskQueue,
      workflowId: t.workflowId,
      args: [t.input],
    });
    expect(result.status).toBe('completed');
    const creates = result.toolCalls.filter((c) => c.name === 'create_ticket');
    expect(creates.map((c) => c.outcome)).toEqual(['executed', 'replayed']);
    expect(creates[0]!.key).toBe(creates[1]!.key);
    expect(result.duplicatesPrevented).toBe(1);
    expect(result.toolCalls.find((c) => c.name === 'list_tickets')?.outcome).toBe('read');
    // The desk saw one create_ticket, carrying the key; the re-decided one never reached it.
    expect(await tickets(t.ticketRef)).toHaveLength(1);
    const calls = await deskCalls('create_ticket', t.customerId);
    expect(calls).toEqual([{ tool: 'create_ticket', outcome: 'effect', intent_key: creates[0]!.key }]);
    const row = await env.ledger.get(creates[0]!.key!);
    expect(row).toMatchObject({ status: 'succeeded', operation: 'mcp:desk/create_ticket' });
    // The tool list was asked once, at the session's start, and recorded in history.
    const history = (await env.client.workflow.getHandle(t.workflowId).fetchHistory()).events ?? [];
    const listed = activityCalls(history).filter((c) => c.type === 'mcpListTools');
    expect(listed).toHaveLength(1);
    const report = await env.client.workflow.getHandle(t.workflowId).query(mcpToolsQuery);
    expect(report.servers[0]).toMatchObject({
      server: 'desk',
      digest: expect.stringMatching(/^mcpl_/) as unknown,
    });
    expect(report.servers[0]!.offered.map((o) => [o.name, o.kind, o.keyed])).toEqual([
      ['create_ticket', 'effect', ['ticket_ref']],
      ['delete_ticket', 'effect', ['ticket_id']],
      ['get_ticket', 'read', []],
      ['list_tickets', 'read', []],
    ]);
  });

  it('an isError answer is an is_error result the model corrects; the corrected call opens the ticket', async () => {
    const t = task('desk-ticket-corrected');
    const result = await env.client.workflow.execute(supportAgent, {
      taskQueue: env.taskQueue,
      workflowId: t.workflowId,
      args: [t.input],
    });
    expect(result.status).toBe('completed');
    const creates = result.toolCalls.filter((c) => c.name === 'create_ticket');
    expect(creates.map((c) => [c.outcome, c.code])).toEqual([
      ['error', 'MCP_TOOL_ERROR'],
      ['executed', undefined],
    ]);
    // Same ticket_ref, so the same key; the first call had other terms (no subject) and was forgotten.
    expect(creates[0]!.key).toBe(creates[1]!.key);
    expect(await tickets(t.ticketRef)).toHaveLength(1);
    const transcript = await env.client.workflow.getHandle(t.workflowId).query(transcriptQuery);
    const blocks: unknown[] = transcript.flatMap((m) => (Array.isArray(m.content) ? [...m.content] : []));
    const firstResult = blocks.find(
      (b) => (b as { type?: string; tool_use_id?: string }).tool_use_id === 'toolu_c1',
    );
    expect(firstResult).toMatchObject({ is_error: true });
    expect(JSON.stringify(firstResult)).toContain('subject');
  });

  it('a worker killed after the desk committed the ticket: another worker resumes with the same key, one ticket', async () => {
    const t = task('desk-ticket');
    const taskQueue = `${env.taskQueue}-mcp-crash`;
    // The desk commits the ticket, then holds the answer: the window where a crash loses it.
    env.sandbox.faults.mcp.set([
      { match: { tool: 'create_ticket' }, fault: 'delay_after_commit', latencyMs: 30_000, times: 1 },
    ]);
    const doomed = spawnWorkerProcess(taskQueue, env.sandbox.addresses, {
      ONCEFLOW_CODEC_KEY: `mcp:${key.toString('base64')}`,
    });
    await doomed.ready;
    const handle = await env.client.workflow.start(supportAgent, {
      taskQueue,
      workflowId: t.workflowId,
      args: [{ ...t.input, effectTimeout: '5 seconds' }],
    });
    await waitFor(async () => (await tickets(t.ticketRef)).length === 1);
    await doomed.kill('SIGKILL');
    env.sandbox.faults.mcp.clear();

    await env.startWorker({ taskQueue });
    const result = await handle.result();
    expect(result.status).toBe('completed');
    const create = result.toolCalls.find((c) => c.name === 'create_ticket')!;
    expect(create.outcome).toBe('recovered');
    expect(await tickets(t.ticketRef)).toHaveLength(1);
    // Both attempts reached the desk with the same key: the first committed, the second was answered from
    // the desk's record of the key.
    const calls = await deskCalls('create_ticket', t.customerId);
    expect(calls.map((c) => c.intent_key)).toEqual([create.key, create.key]);
    expect(calls.map((c) => c.outcome)).toEqual(['effect', 'replayed']);
  });

  it('abort_task undoes the ticket through delete_ticket, with its own key', async () => {
    const t = task('desk-ticket-then-abort');
    const result = await env.client.workflow.execute(supportAgent, {
      taskQueue: env.taskQueue,
      workflowId: t.workflowId,
      args: [t.input],
    });
    expect(result.status).toBe('compensated');
    expect(result.reason).toContain('abort_task');
    const key = result.toolCalls.find((c) => c.name === 'create_ticket')!.key!;
    expect(result.saga.steps).toEqual([
      expect.objectContaining({ key, status: 'compensated', undo: 'delete the ticket' }),
    ]);
    const [ticket] = await tickets(t.ticketRef);
    expect(ticket?.status).toBe('deleted');
    const deletes = await deskCalls('delete_ticket', t.customerId);
    expect(deletes).toEqual([{ tool: 'delete_ticket', outcome: 'effect', intent_key: undoKeyOf(key) }]);
    const undo = await env.ledger.get(undoKeyOf(key));
    expect(undo).toMatchObject({ status: 'succeeded', operation: 'mcpUndoTool' });
    expect(undo?.response).toMatchObject({ undone: true });
  });

  it('an MCP effect that needs approval waits for a person, and runs with the approval on record', async () => {
    const t = task('desk-ticket', { approveTickets: true });
    const done = env.client.workflow.execute(supportAgent, {
      taskQueue: env.taskQueue,
      workflowId: t.workflowId,
      args: [t.input],
    });
    const handle = env.client.workflow.getHandle(t.workflowId);
    await waitFor(
      async () => (await handle.query(agentStatusQuery).catch(() => undefined))?.pendingApproval != null,
    );
    const pending = (await handle.query(agentStatusQuery)).pendingApproval!;
    expect(pending).toMatchObject({ tool: 'create_ticket', reason: 'tickets of this task need approval' });
    expect(await tickets(t.ticketRef)).toHaveLength(0);
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'lead@example.com', key: pending.key! }] });
    const result = await done;
    expect(result.status).toBe('completed');
    expect(result.toolCalls.find((c) => c.name === 'create_ticket')).toMatchObject({
      outcome: 'executed',
      key: pending.key,
    });
    expect(await tickets(t.ticketRef)).toHaveLength(1);
    const { rows } = await env.pool.query<{ approved_by: string }>(
      'SELECT approved_by FROM effect_approvals WHERE key = $1',
      [pending.key],
    );
    expect(rows).toEqual([{ approved_by: 'lead@example.com' }]);
  });

  it('a tool that changed on the server mid-session is refused and reported, never called', async () => {
    const t = task('desk-list-then-ticket');
    // The read of turn 1 is slow, so the desk's deploy (create_ticket now requires `priority`) lands after
    // the session listed the tools and before the model calls create_ticket.
    env.sandbox.faults.mcp.set([
      { match: { tool: 'list_tickets' }, fault: 'latency', latencyMs: 2_000, times: 1 },
    ]);
    const handle = await env.client.workflow.start(supportAgent, {
      taskQueue: env.taskQueue,
      workflowId: t.workflowId,
      args: [t.input],
    });
    try {
      await waitFor(
        async () => ((await handle.query(mcpToolsQuery).catch(() => undefined))?.servers.length ?? 0) > 0,
      );
      expect((await admin('/__admin/tools', { variant: 'v2' })).status).toBe(200);
      const result = await handle.result();
      expect(result.status).toBe('completed');
      const create = result.toolCalls.find((c) => c.name === 'create_ticket')!;
      expect(create).toMatchObject({ outcome: 'error', code: 'MCP_TOOL_LIST_CHANGED' });
      expect(create.error).toContain('changed since the session listed it');
      expect(await tickets(t.ticketRef)).toHaveLength(0);
      expect(await deskCalls('create_ticket', t.customerId)).toEqual([]);
      const report = await handle.query(mcpToolsQuery);
      expect(report.changed.map((c) => c.name)).toEqual(['create_ticket']);
      // The model was told, as an is_error result, and answered without the ticket.
      expect(result.finalText).toContain('not opened');
    } finally {
      env.sandbox.faults.mcp.clear();
      await admin('/__admin/tools', { variant: 'v1' });
    }
  });

  it('continue-as-new carries the listing and the MCP step: the next run neither lists again nor forgets to undo', async () => {
    const t = task('desk-ticket-then-abort', { continueAsNewAfterTurns: 1 });
    const handle = await env.client.workflow.start(supportAgent, {
      taskQueue: env.taskQueue,
      workflowId: t.workflowId,
      args: [t.input],
    });
    const result = await handle.result();
    expect(result.status).toBe('compensated');
    expect((await tickets(t.ticketRef))[0]?.status).toBe('deleted');
    const first =
      (await env.client.workflow.getHandle(t.workflowId, handle.firstExecutionRunId).fetchHistory()).events ??
      [];
    const last = (await handle.fetchHistory()).events ?? [];
    expect(activityCalls(first).filter((c) => c.type === 'mcpListTools')).toHaveLength(1);
    expect(activityCalls(last).filter((c) => c.type === 'mcpListTools')).toHaveLength(0);
    // The undo ran in the later run, from the step the first run carried.
    expect(activityCalls(last).filter((c) => c.type === 'mcpUndoTool')).toHaveLength(1);
    expect((await handle.query(mcpToolsQuery)).servers[0]?.offered).toHaveLength(4);
  });
});

describe('supportAgent over stdio: the desk as a process the worker spawns', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv({
      mcp: [
        {
          name: 'desk',
          transport: {
            type: 'stdio',
            command: process.execPath,
            args: ['--import', 'tsx', 'src/sandbox/mcp-stdio.ts'],
            cwd: fileURLToPath(new URL('../../', import.meta.url)),
            env: { DATABASE_URL: inject('databaseUrl') },
          },
          timeoutMs: 20_000,
        },
      ],
    });
    await env.startWorker();
  });
  afterAll(async () => {
    await env.close();
  });

  it('lists, opens and undoes a ticket through the stdio server, each with its key', async () => {
    const id = randomUUID().slice(0, 8);
    const ref = `T-stdio-${id}`;
    const result = await env.client.workflow.execute(supportAgent, {
      taskQueue: env.taskQueue,
      workflowId: `support-stdio-${id}`,
      args: [
        {
          prompt: `Open a ticket: ticket_ref=${ref} customer_id=cust_${id}.`,
          scenario: 'desk-ticket-then-abort',
        },
      ],
    });
    expect(result.status).toBe('compensated');
    const key = result.toolCalls.find((c) => c.name === 'create_ticket')!.key!;
    const { rows } = await env.pool.query<{
      tool: string;
      outcome: string;
      intent_key: string;
      transport: string;
    }>(
      `SELECT c.tool, c.outcome, c.intent_key, c.transport FROM sandbox.mcp_calls c
        WHERE c.intent_key IN ($1, $2) ORDER BY c.id`,
      [key, undoKeyOf(key)],
    );
    expect(rows).toEqual([
      { tool: 'create_ticket', outcome: 'effect', intent_key: key, transport: 'stdio' },
      { tool: 'delete_ticket', outcome: 'effect', intent_key: undoKeyOf(key), transport: 'stdio' },
    ]);
    const ticket = await env.pool.query<{ status: string }>(
      'SELECT status FROM sandbox.mcp_tickets WHERE ticket_ref = $1',
      [ref],
    );
    expect(ticket.rows).toEqual([{ status: 'deleted' }]);
  });
});

describe('supportAgent on a worker that does not know its server', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv({ mcp: [] });
    await env.startWorker();
  });
  afterAll(async () => {
    await env.close();
  });

  it('fails at the start with MCP_SERVER_CONFIG, before any model turn or effect', async () => {
    const id = randomUUID().slice(0, 8);
    const workflowId = `support-noserver-${id}`;
    const err = await env.client.workflow
      .execute(supportAgent, {
        taskQueue: env.taskQueue,
        workflowId,
        args: [{ prompt: `Open ticket_ref=T-none-${id} customer_id=cust_${id}.`, scenario: 'desk-ticket' }],
      })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WorkflowFailedError);
    const cause = (err as WorkflowFailedError).cause;
    expect(cause).toBeInstanceOf(ActivityFailure);
    expect((cause as ActivityFailure).cause).toMatchObject({
      type: 'MCP_SERVER_CONFIG',
      nonRetryable: true,
      message: expect.stringContaining('no MCP server named "desk"') as unknown,
    });
    const handle = env.client.workflow.getHandle(workflowId);
    expect((await handle.describe()).typedSearchAttributes.get(TASK_STATUS)).toBe('failed');
    const calls = activityCalls((await handle.fetchHistory()).events ?? []);
    expect(calls.map((c) => c.type)).toEqual(['mcpListTools']);
  });
});
