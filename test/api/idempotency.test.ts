import { randomUUID } from 'node:crypto';
import { WorkflowNotFoundError } from '@temporalio/client';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/index.js';
import { auditPayments } from '../../src/sandbox/audit.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { agentTask, eventually, modelRequests, runsOf } from './fixtures.js';
import { ORDER_TASKS } from '../../examples/order-ops/tasks.js';

interface Receipt {
  workflowId: string;
  runId: string;
  currentRunId: string | null;
  status: string;
  workflowStatus: string | null;
  result: { status: string; finalText: string } | null;
  links: { self: string; events: string; ui: string };
}

describe('POST /tasks with a key whose task exists', () => {
  let env: TestEnv;
  let app: FastifyInstance;
  beforeAll(async () => {
    env = await createTestEnv();
    await env.startWorker();
    app = await buildApi({
      tasks: ORDER_TASKS,
      client: env.client,
      pool: env.pool,
      taskQueue: env.taskQueue,
      uiUrl: 'http://ui.test',
    });
  });
  afterAll(async () => {
    await app.close();
    await env.close();
  });

  const post = (payload: object, key: string) =>
    app.inject({ method: 'POST', url: '/tasks', payload, headers: { 'idempotency-key': key } });

  it('answers a retry after the task finished with the original run and its result, never a second run', async () => {
    const { id, body } = await agentTask(env);
    const key = `done-${randomUUID()}`;
    const first = await post(body, key);
    expect(first.statusCode).toBe(201);
    const { runId } = first.json<Receipt>();
    await env.client.workflow.getHandle(key).result();
    const turns = await modelRequests(env, body.prompt);
    expect(turns).toBe(5);

    const again = await post(body, key);
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json<Receipt>()).toMatchObject({
      workflowId: key,
      runId,
      currentRunId: runId,
      status: 'completed',
      workflowStatus: 'COMPLETED',
      result: { status: 'completed' },
      links: { self: `/tasks/${key}`, events: `/tasks/${key}/events` },
    });
    // A second run would start asynchronously: give it the time to show up before counting.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await runsOf(env.client, key)).toEqual([runId]);
    expect(await modelRequests(env, body.prompt)).toBe(turns);
    expect((await auditPayments(env.pool, { customer: `cust_${id}` })).customers[0]).toMatchObject({
      charges: 1,
    });
  });

  it('after a reset answers with the task: its first run and the current run; lists it once', async () => {
    const { body } = await agentTask(env);
    const key = `reset-${randomUUID()}`;
    const { runId } = (await post(body, key)).json<Receipt>();
    const handle = env.client.workflow.getHandle(key);
    await handle.result();
    const events = (await handle.fetchHistory()).events ?? [];
    const firstTask = events.find((e) => e.workflowTaskCompletedEventAttributes);
    const reset = await env.client.workflowService.resetWorkflowExecution({
      namespace: env.namespace,
      workflowExecution: { workflowId: key, runId },
      reason: 'test',
      workflowTaskFinishEventId: firstTask?.eventId ?? null,
      requestId: randomUUID(),
    });
    const currentRunId = reset.runId ?? '';
    await env.client.workflow.getHandle(key, currentRunId).result();

    const again = await post(body, key);
    expect(again.statusCode).toBe(200);
    expect(again.json<Receipt>()).toMatchObject({ runId, currentRunId, status: 'completed' });

    const task = (await app.inject({ method: 'GET', url: `/tasks/${key}` })).json<{
      runId: string;
      runs: { runId: string }[];
    }>();
    expect(task.runId).toBe(currentRunId);
    expect(task.runs.map((r) => r.runId).sort()).toEqual([runId, currentRunId].sort());

    let listed: { id: string; runId: string }[] = [];
    expect(
      await eventually(async () => {
        const res = await app.inject({ method: 'GET', url: '/tasks?limit=500' });
        listed = res.json<{ tasks: { id: string; runId: string }[] }>().tasks.filter((t) => t.id === key);
        return listed.length > 0;
      }),
    ).toBe(true);
    expect(listed).toEqual([expect.objectContaining({ id: key, runId: currentRunId })]);
  });

  it('takes a key with URL-reserved characters: links and run listings reach its task', async () => {
    const { body } = await agentTask(env);
    const key = `it/${randomUUID()}?#%&=+@x`;
    const first = (await post(body, key)).json<Receipt>();
    expect(first.links.self).toBe(`/tasks/${encodeURIComponent(key)}`);
    await env.client.workflow.getHandle(key).result();
    expect((await post(body, key)).json<Receipt>()).toMatchObject({
      runId: first.runId,
      status: 'completed',
    });
    const task = await app.inject({ method: 'GET', url: first.links.self });
    expect(task.statusCode).toBe(200);
    expect(task.json<{ id: string; runs: { runId: string }[] }>()).toMatchObject({
      id: key,
      runs: [{ runId: first.runId }],
    });
  });

  it('answers a retained key whose workflow Temporal no longer has as expired, and starts nothing', async () => {
    const { body } = await agentTask(env);
    const key = `gone-${randomUUID()}`;
    const { runId } = (await post(body, key)).json<Receipt>();
    await env.client.workflow.getHandle(key).result();
    const turns = await modelRequests(env, body.prompt);
    await env.client.workflowService.deleteWorkflowExecution({
      namespace: env.namespace,
      workflowExecution: { workflowId: key, runId },
    });
    const gone = async () =>
      env.client.workflow
        .getHandle(key)
        .describe()
        .then(
          () => false,
          (err: unknown) => err instanceof WorkflowNotFoundError,
        );
    // The dev server deletes in the background, some ten seconds later.
    expect(await eventually(gone, 45_000)).toBe(true);

    const again = await post(body, key);
    expect(again.statusCode).toBe(200);
    expect(again.json<Receipt>()).toMatchObject({
      workflowId: key,
      runId,
      currentRunId: null,
      status: 'expired',
      workflowStatus: null,
      result: null,
    });
    await new Promise((r) => setTimeout(r, 1000));
    expect(await gone()).toBe(true);
    expect(await modelRequests(env, body.prompt)).toBe(turns);
  }, 90_000);
});
