import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi, startApi } from '../../src/api/index.js';
import { auditPayments } from '../../src/sandbox/audit.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { agentTask } from './fixtures.js';
import { ORDER_TASKS } from '../../examples/order-ops/tasks.js';

describe('backend HTTP API', () => {
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

  const agentBody = (scenario?: string) => agentTask(env, scenario);

  const post = (url: string, payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url, payload: payload as object, headers });

  it('starts a task under the Idempotency-Key: 201, then 200 replayed with the same workflowId', async () => {
    const { body } = await agentBody();
    const key = `task-${randomUUID()}`;
    const first = await post('/tasks', body, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(first.json()).toMatchObject({ workflowId: key });
    const again = await post('/tasks', body, { 'idempotency-key': key });
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toMatchObject({ workflowId: key, runId: first.json<{ runId: string }>().runId });
  });

  it('answers the same key with a different body with 422', async () => {
    const { body } = await agentBody();
    const key = `task-${randomUUID()}`;
    expect((await post('/tasks', body, { 'idempotency-key': key })).statusCode).toBe(201);
    const other = await post(
      '/tasks',
      { ...body, prompt: `${body.prompt} And more.` },
      { 'idempotency-key': key },
    );
    expect(other.statusCode).toBe(422);
    expect(other.json()).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } });
  });

  it('turns 20 concurrent identical POSTs into one workflow and one charge', async () => {
    const { id, body } = await agentBody();
    const key = `task-${randomUUID()}`;
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => post('/tasks', body, { 'idempotency-key': key })),
    );
    expect(responses.map((r) => r.statusCode).sort()).toEqual([...Array<number>(19).fill(200), 201]);
    expect(new Set(responses.map((r) => r.json<{ runId: string }>().runId)).size).toBe(1);
    await env.client.workflow.getHandle(key).result();
    expect((await auditPayments(env.pool, { customer: `cust_${id}` })).customers[0]).toMatchObject({
      charges: 1,
    });
  });

  it('reports status, result, tool calls with keys, usage and the Web UI link', async () => {
    const { body } = await agentBody();
    const key = `task-${randomUUID()}`;
    await post('/tasks', body, { 'idempotency-key': key });
    await env.client.workflow.getHandle(key).result();
    const res = await app.inject({ method: 'GET', url: `/tasks/${key}` });
    expect(res.statusCode).toBe(200);
    const task = res.json<{
      status: string;
      link: string;
      toolCalls: { key?: string }[];
      usage: { turns: number };
    }>();
    expect(task.status).toBe('completed');
    expect(task.link).toContain(`http://ui.test/namespaces/default/workflows/${key}`);
    expect(task.toolCalls.filter((c) => c.key?.startsWith('ik_'))).toHaveLength(4);
    expect(task.usage.turns).toBe(5);
  });

  it('approves and denies through the approval update; 409 when nothing waits', async () => {
    const { id, body } = await agentBody('agent-approval');
    const key = `task-${randomUUID()}`;
    await post('/tasks', body, { 'idempotency-key': key });
    let waiting = false;
    for (let i = 0; i < 100 && !waiting; i++) {
      const t = (await app.inject({ method: 'GET', url: `/tasks/${key}` })).json<{ status: string }>();
      waiting = t.status === 'waiting_approval';
      if (!waiting) await new Promise((r) => setTimeout(r, 100));
    }
    expect(waiting).toBe(true);
    const approved = await post(`/tasks/${key}/approve`, { by: 'ops' });
    expect(approved.statusCode).toBe(200);
    await env.client.workflow.getHandle(key).result();
    expect((await auditPayments(env.pool, { customer: `cust_${id}` })).customers[0]).toMatchObject({
      charged: 25000,
    });
    expect((await post(`/tasks/${key}/deny`, {})).statusCode).toBe(409);
  });

  it('cancels a running task; compensation follows', async () => {
    const { body } = await agentBody('agent-approval');
    const key = `task-${randomUUID()}`;
    await post('/tasks', body, { 'idempotency-key': key });
    await new Promise((r) => setTimeout(r, 1500));
    const cancelled = await post(`/tasks/${key}/cancel`, {});
    expect(cancelled.statusCode).toBe(202);
    await env.client.workflow
      .getHandle(key)
      .result()
      .catch(() => undefined);
    const task = (await app.inject({ method: 'GET', url: `/tasks/${key}` })).json<{
      saga: { status: string };
    }>();
    expect(task.saga.status).toBe('compensated');
  });

  it('lists tasks by status through search attributes', async () => {
    const { body } = await agentBody();
    const key = `task-${randomUUID()}`;
    await post('/tasks', body, { 'idempotency-key': key });
    await env.client.workflow.getHandle(key).result();
    let found = false;
    for (let i = 0; i < 50 && !found; i++) {
      const res = await app.inject({ method: 'GET', url: '/tasks?status=completed&limit=500' });
      found = res.json<{ tasks: { id: string }[] }>().tasks.some((t) => t.id === key);
      if (!found) await new Promise((r) => setTimeout(r, 200));
    }
    expect(found).toBe(true);
  });

  it('answers bad input with 400 naming the field, unknown tasks with 404, wrong methods with 405, big bodies with 413', async () => {
    const bad = await post('/tasks', { kind: 'agent', prompt: '' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ error: { message: string } }>().error.message).toContain('prompt');
    const badOrder = await post('/tasks', { kind: 'order', order: { orderId: 'o1' } });
    expect(badOrder.statusCode).toBe(400);
    expect(badOrder.json<{ error: { message: string } }>().error.message).toContain('order.customerId');
    expect((await post('/tasks', 'not json', { 'content-type': 'application/json' })).statusCode).toBe(400);
    expect((await app.inject({ method: 'GET', url: '/tasks/no-such-task' })).statusCode).toBe(404);
    expect((await post('/tasks/no-such-task/approve', {})).statusCode).toBe(404);
    expect((await app.inject({ method: 'DELETE', url: '/tasks' })).statusCode).toBe(405);
    expect((await app.inject({ method: 'PUT', url: '/tasks/x/cancel' })).statusCode).toBe(405);
    expect((await app.inject({ method: 'GET', url: '/nowhere' })).statusCode).toBe(404);
    const huge = await post('/tasks', { kind: 'agent', prompt: 'x'.repeat(100_000) });
    expect(huge.statusCode).toBe(413);
  });

  it('publishes the OpenAPI document at /docs', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/docs' })).json<{
      openapi: string;
      paths: Record<string, unknown>;
    }>();
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/tasks', '/tasks/{id}', '/tasks/{id}/events']),
    );
    // The live event format is documented where API tooling reads it.
    const events = doc.paths['/tasks/{id}/events'] as {
      get: {
        description: string;
        parameters: { name: string; in: string }[];
        responses: Record<string, { content?: Record<string, unknown> }>;
      };
    };
    for (const kind of [
      'text_delta',
      'text_discarded',
      'tool_use',
      'tool_result',
      'approval_waiting',
      'compensation',
      'status',
      'end',
    ])
      expect(events.get.description).toContain(`\`${kind}\``);
    expect(events.get.parameters).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: 'last-event-id', in: 'header' })]),
    );
    expect(Object.keys(events.get.responses['200']?.content ?? {})).toEqual(['text/event-stream']);
  });

  it('requires the bearer token on every route but /health when API_TOKEN is set', async () => {
    const secured = await buildApi({
      tasks: ORDER_TASKS,
      client: env.client,
      pool: env.pool,
      taskQueue: env.taskQueue,
      uiUrl: 'http://ui.test',
      apiToken: 's3cret',
    });
    expect((await secured.inject({ method: 'GET', url: '/health' })).statusCode).toBe(200);
    expect((await secured.inject({ method: 'GET', url: '/tasks' })).statusCode).toBe(401);
    expect(
      (await secured.inject({ method: 'GET', url: '/docs', headers: { authorization: 'Bearer wrong' } }))
        .statusCode,
    ).toBe(401);
    expect(
      (await secured.inject({ method: 'GET', url: '/docs', headers: { authorization: 'Bearer s3cret' } }))
        .statusCode,
    ).toBe(200);
    await secured.close();
  });

  it('streams the progress of a scripted run as Server-Sent Events', async () => {
    const server = await startApi({
      tasks: ORDER_TASKS,
      client: env.client,
      pool: env.pool,
      taskQueue: env.taskQueue,
      uiUrl: 'http://ui.test',
      eventsIntervalMs: 100,
    });
    try {
      const { body } = await agentBody();
      const key = `task-${randomUUID()}`;
      await fetch(`${server.url}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        body: JSON.stringify(body),
      });
      const res = await fetch(`${server.url}/tasks/${key}/events`);
      expect(res.headers.get('content-type')).toContain('text/event-stream');
      const text = await res.text();
      const events = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
      expect(events.filter((e) => e === 'tool_use')).toHaveLength(5);
      expect(events.filter((e) => e === 'tool_result')).toHaveLength(5);
      expect(events).toContain('text_delta');
      expect(events.at(-1)).toBe('end');
    } finally {
      await server.close();
    }
  });
});
