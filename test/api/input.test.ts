import { randomUUID } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApi } from '../../src/api/index.js';
import { createTestEnv, type TestEnv } from '../support/env.js';
import { runsOf } from './fixtures.js';
import { ORDER_TASKS } from '../../examples/order-ops/tasks.js';

type ErrorBody = { error: { code: string; message: string } };

const body = { kind: 'agent', prompt: 'Say hello.', scenario: 'agent-happy-path' } as const;

describe('API input edges', () => {
  let env: TestEnv;
  let app: FastifyInstance;
  beforeAll(async () => {
    env = await createTestEnv();
    // No worker: these requests must be refused before anything runs.
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

  const post = (payload: unknown, headers: Record<string, string> = {}) =>
    app.inject({ method: 'POST', url: '/tasks', payload: payload as object, headers });
  const error = (res: LightMyRequestResponse) => res.json<ErrorBody>().error;

  it('refuses an Idempotency-Key that is too long or not printable ASCII with 400 naming the header', async () => {
    for (const key of ['k'.repeat(2000), 'k'.repeat(256), 'tab\there', 'naïve', "it's", 'back\\slash']) {
      const res = await post(body, { 'idempotency-key': key });
      expect(res.statusCode, key.slice(0, 20)).toBe(400);
      expect(error(res)).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(error(res).message).toContain('Idempotency-Key');
    }
    const longest = `k-${randomUUID()}`.padEnd(255, 'x');
    expect((await post(body, { 'idempotency-key': longest })).statusCode).toBe(201);
    expect(await runsOf(env.client, longest)).toHaveLength(1);
  });

  it('validates taskId in the body exactly as the Idempotency-Key header', async () => {
    const tooLong = await post({ ...body, taskId: 'k'.repeat(256) });
    expect(tooLong.statusCode).toBe(400);
    expect(error(tooLong).message).toContain('taskId');
    // What the header accepts, the body accepts too.
    const id = `k/${randomUUID()}:x@y`;
    const created = await post({ ...body, taskId: id });
    expect(created.statusCode).toBe(201);
    expect(created.json<{ workflowId: string }>().workflowId).toBe(id);
    const clash = await post(
      { ...body, taskId: `a-${randomUUID()}` },
      { 'idempotency-key': `b-${randomUUID()}` },
    );
    expect(clash.statusCode).toBe(400);
    expect(error(clash).message).toContain('taskId');
  });

  it('answers a body that is not JSON with 415', async () => {
    const res = await post('kind=agent', { 'content-type': 'text/plain' });
    expect(res.statusCode).toBe(415);
    expect(error(res)).toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect(error(res).message).toContain('application/json');
  });

  it('sends Allow with 405', async () => {
    const res = await app.inject({ method: 'DELETE', url: '/tasks' });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    const cancel = await app.inject({ method: 'GET', url: '/tasks/x/cancel' });
    expect(cancel.statusCode).toBe(405);
    expect(cancel.headers.allow).toBe('POST');
    expect(error(cancel)).toMatchObject({ code: 'METHOD_NOT_ALLOWED' });
  });

  it('refuses unknown body fields with 400 naming the field', async () => {
    const res = await post({ ...body, promt: 'typo' });
    expect(res.statusCode).toBe(400);
    expect(error(res).message).toContain('promt');
    const order = await post({
      kind: 'order',
      order: {
        orderId: 'o1',
        customerId: 'c1',
        email: 'a@example.com',
        items: [{ sku: 'mug', quantity: 1, unitAmount: 100, colour: 'red' }],
        currency: 'usd',
        shippingAddress: { name: 'A', line1: 'B', city: 'C', postalCode: 'D', country: 'US' },
      },
    });
    expect(order.statusCode).toBe(400);
    expect(error(order).message).toContain('colour');
    const decision = await app.inject({
      method: 'POST',
      url: '/tasks/x/approve',
      payload: { by: 'ops', reason: 'x' },
    });
    expect(decision.statusCode).toBe(400);
    expect(error(decision).message).toContain('reason');
  });

  it('refuses a bad limit or status on GET /tasks with 400 naming the parameter', async () => {
    for (const [query, name] of [
      ['limit=abc', 'limit'],
      ['limit=0', 'limit'],
      ['limit=501', 'limit'],
      ['status=done', 'status'],
      ['statuss=completed', 'statuss'],
    ] as const) {
      const res = await app.inject({ method: 'GET', url: `/tasks?${query}` });
      expect(res.statusCode, query).toBe(400);
      expect(error(res)).toMatchObject({ code: 'INVALID_REQUEST' });
      expect(error(res).message).toContain(name);
    }
    expect((await app.inject({ method: 'GET', url: '/tasks?status=completed&limit=5' })).statusCode).toBe(
      200,
    );
  });

  it('serves the OpenAPI document at /docs and /docs/json', async () => {
    for (const url of ['/docs', '/docs/json']) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.json<{ openapi: string }>().openapi).toMatch(/^3\./);
    }
  });

  it('keeps the error shape with a stable code for every failure', async () => {
    const responses = await Promise.all([
      post('{"kind":', { 'content-type': 'application/json' }),
      post({ kind: 'agent', prompt: 'x'.repeat(100_000) }),
      app.inject({ method: 'GET', url: '/nowhere' }),
      app.inject({ method: 'GET', url: '/tasks/no-such-task' }),
    ]);
    expect(responses.map((r) => [r.statusCode, error(r).code])).toEqual([
      [400, 'INVALID_JSON'],
      [413, 'PAYLOAD_TOO_LARGE'],
      [404, 'NOT_FOUND'],
      [404, 'TASK_NOT_FOUND'],
    ]);
  });
});
