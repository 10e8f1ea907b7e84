import { randomUUID } from 'node:crypto';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyInstance } from 'fastify';
import { defineTask, onceflowApi } from 'onceflow/api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createTestEnv, type TestEnv } from '../support/env.js';

type ErrorBody = { error: { code: string; message: string } };

/** A task kind of the user's own: the engine's ping workflow, started with a message. */
const pingTask = defineTask({
  kind: 'ping',
  workflow: 'pingWorkflow',
  input: z.object({ message: z.string().min(1).max(100) }),
  args: ({ message }) => [message],
  summary: ({ message }) => `ping ${message}`,
});

describe('the API as a Fastify plugin in the user’s own server', () => {
  let env: TestEnv;
  let app: FastifyInstance;
  beforeAll(async () => {
    env = await createTestEnv();
    await env.startWorker();
    // The user's backend: its own routes, its own OpenAPI document, its own body parser defaults.
    app = Fastify();
    await app.register(swagger, { openapi: { info: { title: 'my backend', version: '1.0.0' } } });
    app.get('/orders/:id', (request, reply) => reply.send({ order: (request.params as { id: string }).id }));
    app.post('/notes', (request, reply) => reply.send({ echoed: request.body as string }));
    await app.register(
      onceflowApi({
        tasks: [pingTask],
        client: env.client,
        pool: env.pool,
        taskQueue: env.taskQueue,
        uiUrl: 'http://ui.test',
        apiToken: 'secret',
      }),
      { prefix: '/agents' },
    );
    await app.ready();
  });
  afterAll(async () => {
    await app?.close();
    await env?.close();
  });

  const auth = { authorization: 'Bearer secret' };

  it('starts the user’s task kind once per Idempotency-Key under its prefix', async () => {
    const key = `ping-${randomUUID()}`;
    const post = () =>
      app.inject({
        method: 'POST',
        url: '/agents/tasks',
        headers: { ...auth, 'idempotency-key': key },
        payload: { kind: 'ping', message: 'hello' },
      });
    const first = await post();
    expect(first.statusCode, first.body).toBe(201);
    expect(first.json()).toMatchObject({
      workflowId: key,
      links: { self: `/tasks/${key}`, ui: expect.stringContaining(key) as string },
    });
    const handle = env.client.workflow.getHandle(key);
    expect(await handle.result()).toMatchObject({ eventId: expect.any(Number) as number });
    const description = await handle.describe();
    expect(description.type).toBe('pingWorkflow');
    expect(await description.staticSummary()).toBe('ping hello');

    const again = await post();
    expect(again.statusCode).toBe(200);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toMatchObject({ workflowId: key, runId: first.json<{ runId: string }>().runId });

    const other = await app.inject({
      method: 'POST',
      url: '/agents/tasks',
      headers: { ...auth, 'idempotency-key': key },
      payload: { kind: 'ping', message: 'other terms' },
    });
    expect(other.statusCode).toBe(422);
  });

  it('refuses an unknown kind or field with a 400 naming them, before anything starts', async () => {
    const unknownKind = await app.inject({
      method: 'POST',
      url: '/agents/tasks',
      headers: auth,
      payload: { kind: 'agent', prompt: 'hi' },
    });
    expect(unknownKind.statusCode).toBe(400);
    expect(unknownKind.json<ErrorBody>().error).toEqual({
      code: 'INVALID_REQUEST',
      message: 'kind: expected one of ping, got "agent"',
    });
    const extra = await app.inject({
      method: 'POST',
      url: '/agents/tasks',
      headers: auth,
      payload: { kind: 'ping', message: 'hi', priority: 9 },
    });
    expect(extra.statusCode).toBe(400);
    expect(extra.json<ErrorBody>().error.message).toContain('priority');
  });

  it('keeps its rules inside its prefix: the user’s routes, parsers and auth are untouched', async () => {
    // No bearer token: the user's route answers; the plugin's check is for its own routes.
    const order = await app.inject({ method: 'GET', url: '/orders/o1' });
    expect(order.statusCode).toBe(200);
    expect(order.json()).toEqual({ order: 'o1' });
    // text/plain is refused by the plugin (JSON only) but still parsed for the user's routes.
    const note = await app.inject({
      method: 'POST',
      url: '/notes',
      headers: { 'content-type': 'text/plain' },
      payload: 'remember the milk',
    });
    expect(note.json()).toEqual({ echoed: 'remember the milk' });
    const plain = await app.inject({
      method: 'POST',
      url: '/agents/tasks',
      headers: { ...auth, 'content-type': 'text/plain' },
      payload: 'kind=ping',
    });
    expect(plain.statusCode).toBe(415);

    expect((await app.inject({ method: 'GET', url: '/agents/tasks' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/agents/health' })).statusCode).toBe(200);
    const wrongMethod = await app.inject({ method: 'DELETE', url: '/agents/tasks', headers: auth });
    expect(wrongMethod.statusCode).toBe(405);
    expect(wrongMethod.headers.allow).toBe('GET, HEAD, POST');
  });

  it('adds its routes to the user’s OpenAPI document, with the kinds it starts', async () => {
    const doc = app.swagger() as {
      info: { title: string };
      paths: Record<string, Record<string, { requestBody?: unknown }>>;
    };
    expect(doc.info.title).toBe('my backend');
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(['/orders/{id}', '/agents/tasks']));
    expect(JSON.stringify(doc.paths['/agents/tasks']?.post?.requestBody)).toContain('"ping"');
    const served = await app.inject({ method: 'GET', url: '/agents/docs/json', headers: auth });
    expect(served.json<{ info: { title: string } }>().info.title).toBe('my backend');
  });
});
