import { randomUUID } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { temporal } from '@temporalio/proto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ModelRequest } from '../../src/tools/messages.js';
import { agentWorkflow } from '../../examples/order-ops/workflows.js';
import {
  agentStatusQuery,
  approveUpdate,
  transcriptQuery,
  type AgentInput,
} from '../../src/workflows/index.js';
import { createTestEnv, type TestEnv } from '../support/env.js';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

describe('agentWorkflow: the conversation by reference', () => {
  let env: TestEnv;
  beforeAll(async () => {
    env = await createTestEnv();
    await env.startWorker();
  });
  afterAll(async () => {
    await env.close();
  });

  async function task(scenario: string, overrides: Partial<AgentInput> = {}) {
    const id = randomUUID().slice(0, 8);
    const customerId = `cust_${id}`;
    const email = `buyer-${id}@example.com`;
    await env.pool.query('INSERT INTO customers (customer_id, name, email) VALUES ($1, $2, $3)', [
      customerId,
      `Buyer ${id}`,
      email,
    ]);
    const input: AgentInput = {
      prompt: `Please order 2 mugs and tea for customer_id=${customerId} email=${email} as order_id=ord_${id}.`,
      customerId,
      scenario,
      ...overrides,
    };
    return { workflowId: `agent-ord_${id}`, input };
  }

  const execute = (workflowId: string, input: AgentInput) =>
    env.client.workflow.execute(agentWorkflow, { taskQueue: env.taskQueue, workflowId, args: [input] });

  /** The decoded input of every `callModel` the workflow scheduled, and how each attempt ended. */
  async function modelCalls(workflowId: string) {
    const events: HistoryEvent[] =
      (await env.client.workflow.getHandle(workflowId).fetchHistory()).events ?? [];
    const scheduled = events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel',
    );
    return scheduled.map((e) => {
      const ended = events.find(
        (x) =>
          (
            x.activityTaskCompletedEventAttributes ?? x.activityTaskFailedEventAttributes
          )?.scheduledEventId?.toString() === e.eventId?.toString(),
      );
      const failure = ended?.activityTaskFailedEventAttributes?.failure;
      return {
        request: defaultPayloadConverter.fromPayload<ModelRequest>(
          e.activityTaskScheduledEventAttributes!.input!.payloads![0]!,
        ),
        failedWith: failure?.cause?.applicationFailureInfo?.type ?? failure?.applicationFailureInfo?.type,
      };
    });
  }

  it('sends each model turn only the messages added since the last one', async () => {
    const { workflowId, input } = await task('agent-happy-path');
    const result = await execute(workflowId, input);
    // The scripted model is stateless and checks tool_result ids against the previous message, so a
    // completed session shows it received the whole, correct conversation every turn.
    expect(result.status).toBe('completed');
    const calls = await modelCalls(workflowId);
    expect(calls.map((c) => c.request.messages)).toEqual([
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
    ]);
    expect(calls.map((c) => [c.request.transcript?.base, c.request.transcript?.append.length])).toEqual([
      [0, 1],
      [1, 2],
      [3, 2],
      [5, 2],
      [7, 2],
    ]);
    // The system prompt and tool schemas travel once, with the first turn.
    expect(calls.map((c) => c.request.transcript?.context !== undefined)).toEqual([
      true,
      false,
      false,
      false,
      false,
    ]);
    expect(calls[0]!.request.transcript!.context!.tools.map((t) => t.name)).toContain('charge_payment');
    expect(calls.slice(1).every((c) => c.request.system === undefined && c.request.tools === undefined)).toBe(
      true,
    );
    expect(new Set(calls.map((c) => c.request.transcript?.conversationId))).toEqual(
      new Set([`${env.namespace}/${workflowId}`]),
    );
  });

  it('resends the whole conversation once when the store lost it, and carries on', async () => {
    const { workflowId, input } = await task('agent-approval');
    const done = execute(workflowId, input);
    const handle = env.client.workflow.getHandle(workflowId);
    for (let i = 0; i < 200; i++) {
      const status = await handle.query(agentStatusQuery).catch(() => undefined);
      if (status?.pendingApproval) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const { rowCount } = await env.pool.query('DELETE FROM transcript_messages WHERE conversation_id = $1', [
      `${env.namespace}/${workflowId}`,
    ]);
    expect(rowCount).toBeGreaterThan(0);
    await handle.executeUpdate(approveUpdate, { args: [{ by: 'ops@example.com' }] });
    const result = await done;
    expect(result.finalText).toContain('after approval');
    const calls = await modelCalls(workflowId);
    const gap = calls.findIndex((c) => c.failedWith === 'TRANSCRIPT_GAP');
    expect(gap).toBeGreaterThan(0);
    expect(calls[gap]!.request.transcript!.base).toBeGreaterThan(0);
    expect(calls[gap + 1]!.request.transcript).toMatchObject({ base: 0 });
    expect(calls[gap + 1]!.request.transcript!.context?.system).toContain('order-operations agent');
    expect(calls[gap + 1]!.request.transcript!.append).toHaveLength(calls[gap]!.request.transcript!.base + 2);
    expect(calls.filter((c) => c.failedWith)).toHaveLength(1);
    expect(await handle.query(transcriptQuery)).toHaveLength(2 * result.turns);
  });

  it('still sends the whole transcript every turn when asked to (transcript: inline)', async () => {
    const { workflowId, input } = await task('agent-happy-path', { transcript: 'inline' });
    const result = await execute(workflowId, input);
    expect(result.status).toBe('completed');
    const calls = await modelCalls(workflowId);
    expect(calls.map((c) => c.request.messages?.length)).toEqual([1, 3, 5, 7, 9]);
    expect(calls.every((c) => c.request.transcript === undefined)).toBe(true);
  });
});
