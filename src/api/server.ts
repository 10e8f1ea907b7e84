import swagger from '@fastify/swagger';
import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import type { z } from 'zod';
import {
  agentStatusQuery,
  approveUpdate,
  denyUpdate,
  sagaStateQuery,
  toolCallsQuery,
} from '../workflows/index.js';
import { createTask, decision, jsonSchema } from './schemas.js';
import { ApiError, describeTask, listTasks, startTask, type TaskService } from './tasks.js';

/** Options of {@link buildApi}. */
export interface ApiOptions extends TaskService {
  /** `API_TOKEN`: when set, every route but /health needs `Authorization: Bearer <token>`. */
  apiToken?: string | undefined;
  /** Largest accepted body; default 64 KiB. */
  bodyLimit?: number;
  /** SSE poll interval; default 500 ms. */
  eventsIntervalMs?: number;
  /** Serves `/codec/encode` and `/codec/decode` for the Web UI when set. */
  codec?: PayloadCodec | undefined;
  /** Origin allowed to call the codec server (the Web UI). Default `*`. */
  corsOrigin?: string;
}

const ROUTES: [string, RegExp][] = [
  ['/codec/encode', /^\/codec\/encode\/?$/],
  ['/codec/decode', /^\/codec\/decode\/?$/],
  ['/tasks', /^\/tasks\/?$/],
  ['/tasks/:id', /^\/tasks\/[^/]+\/?$/],
  ['/tasks/:id/approve', /^\/tasks\/[^/]+\/approve\/?$/],
  ['/tasks/:id/deny', /^\/tasks\/[^/]+\/deny\/?$/],
  ['/tasks/:id/cancel', /^\/tasks\/[^/]+\/cancel\/?$/],
  ['/tasks/:id/events', /^\/tasks\/[^/]+\/events\/?$/],
];

/** The backend HTTP API (Fastify 5): start, inspect, approve, cancel and follow tasks. */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: options.bodyLimit ?? 64 * 1024, logger: false });
  const zodOf = new WeakMap<object, z.ZodType>();
  const body = <S extends z.ZodType>(schema: S) => {
    const json = jsonSchema(schema);
    zodOf.set(json, schema);
    return json;
  };
  // Validation by zod: errors name the field and the reason.
  app.setValidatorCompiler(({ schema }) => {
    const zod = zodOf.get(schema);
    return (data: unknown) => {
      if (!zod) return { value: data };
      const parsed = zod.safeParse(data);
      if (parsed.success) return { value: parsed.data };
      const reason = parsed.error.issues
        .map((i) => `${i.path.join('.') || '(body)'}: ${i.message}`)
        .join('; ');
      return { error: new ApiError(400, 'INVALID_REQUEST', reason) };
    };
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'onceflow API',
        version: '0.1.0',
        description: 'Durable AI agent tasks; every side effect once.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/codec/')) {
      void reply.header('access-control-allow-origin', options.corsOrigin ?? '*');
      void reply.header('access-control-allow-headers', 'authorization, content-type, x-namespace');
      void reply.header('access-control-allow-methods', 'POST, OPTIONS');
      if (request.method === 'OPTIONS') return reply.code(204).send();
    }
    if (!options.apiToken || request.url === '/health') return;
    if (request.headers.authorization !== `Bearer ${options.apiToken}`) {
      await reply
        .code(401)
        .send({ error: { code: 'UNAUTHORIZED', message: 'Authorization: Bearer <API_TOKEN> required' } });
    }
  });

  app.setErrorHandler(async (err: unknown, _request, reply) => {
    const e = err as Error & { statusCode?: number; code?: string; validation?: unknown };
    if (err instanceof ApiError)
      return reply.code(err.status).send({ error: { code: err.code, message: err.message } });
    if (e.validation && e.message)
      return reply.code(400).send({ error: { code: 'INVALID_REQUEST', message: e.message } });
    if (err instanceof WorkflowNotFoundError)
      return reply.code(404).send({ error: { code: 'TASK_NOT_FOUND', message: e.message } });
    if (e.statusCode && e.statusCode < 500) {
      return reply.code(e.statusCode).send({ error: { code: e.code ?? 'BAD_REQUEST', message: e.message } });
    }
    return reply.code(500).send({ error: { code: 'INTERNAL', message: e.message } });
  });

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const known = ROUTES.find(([, pattern]) => pattern.test(path));
    if (known) {
      return reply.code(405).send({
        error: { code: 'METHOD_NOT_ALLOWED', message: `${request.method} is not allowed on ${known[0]}` },
      });
    }
    return reply
      .code(404)
      .send({ error: { code: 'NOT_FOUND', message: `no route ${request.method} ${path}` } });
  });

  if (options.codec) {
    const codec = options.codec;
    // The Temporal codec server protocol: {payloads:[{metadata:{k:base64},data:base64}]} in and out.
    type JsonPayload = { metadata?: Record<string, string>; data?: string };
    const fromJson = (p: JsonPayload) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
      ),
      data: Buffer.from(p.data ?? '', 'base64'),
    });
    const toJson = (p: { metadata?: Record<string, Uint8Array> | null; data?: Uint8Array | null }) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
    });
    for (const op of ['encode', 'decode'] as const) {
      app.post(`/codec/${op}`, async (request) => {
        const payloads = ((request.body ?? {}) as { payloads?: JsonPayload[] }).payloads;
        if (!Array.isArray(payloads))
          throw new ApiError(400, 'INVALID_REQUEST', 'payloads: expected an array');
        return { payloads: (await codec[op](payloads.map(fromJson))).map(toJson) };
      });
    }
  }

  app.get('/health', () => Promise.resolve({ ok: true }));
  app.get('/docs', () => Promise.resolve(app.swagger()));

  app.post(
    '/tasks',
    { schema: { body: body(createTask), summary: 'Start an agent task or an order saga' } },
    async (request, reply) => {
      const key = request.headers['idempotency-key'];
      const started = await startTask(
        options,
        request.body as z.infer<typeof createTask>,
        typeof key === 'string' ? key : undefined,
      );
      if (started.replayed) void reply.header('idempotent-replayed', 'true');
      return reply.code(started.replayed ? 200 : 201).send({
        workflowId: started.workflowId,
        runId: started.runId,
        links: { self: `/tasks/${started.workflowId}`, events: `/tasks/${started.workflowId}/events` },
      });
    },
  );

  app.get('/tasks', async (request) => {
    const q = request.query as { status?: string; limit?: string };
    const limit = Math.min(Number(q.limit ?? 50) || 50, 500);
    return { tasks: await listTasks(options, q.status, limit) };
  });

  app.get('/tasks/:id', async (request) => describeTask(options, (request.params as { id: string }).id));

  const decide =
    (approved: boolean) => async (request: { params: unknown; body: unknown }, reply: FastifyReply) => {
      const id = (request.params as { id: string }).id;
      await describeTask(options, id); // 404 for an unknown task
      try {
        const pending = await options.client.workflow
          .getHandle(id)
          .executeUpdate(approved ? approveUpdate : denyUpdate, {
            args: [(request.body ?? {}) as z.infer<typeof decision>],
          });
        return reply.send({ id, decision: approved ? 'approved' : 'denied', call: pending });
      } catch (err) {
        // A closed task has nothing waiting either.
        if (err instanceof WorkflowUpdateFailedError || err instanceof WorkflowNotFoundError) {
          throw new ApiError(409, 'NOTHING_TO_APPROVE', `task ${id} has no call waiting for approval`);
        }
        throw err;
      }
    };
  app.post('/tasks/:id/approve', { schema: { body: body(decision.optional()) } }, decide(true));
  app.post('/tasks/:id/deny', { schema: { body: body(decision.optional()) } }, decide(false));

  app.post('/tasks/:id/cancel', async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const task = await describeTask(options, id);
    if (task.workflowStatus !== 'RUNNING')
      throw new ApiError(409, 'TASK_CLOSED', `task ${id} is ${task.workflowStatus}`);
    await options.client.workflow.getHandle(id).cancel();
    return reply.code(202).send({ id, cancelling: true });
  });

  app.get('/tasks/:id/events', async (request, reply) => {
    const id = (request.params as { id: string }).id;
    await describeTask(options, id);
    reply.hijack();
    const raw = reply.raw;
    raw.writeHead(200, {
      'content-type': 'text/event-stream',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
    });
    const send = (event: string, data: unknown) =>
      raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const handle = options.client.workflow.getHandle(id);
    let seenCalls = 0;
    let lastStatus = '';
    let lastSaga = '';
    let closed = false;
    request.raw.on('close', () => {
      closed = true;
    });
    while (!closed) {
      const description = await handle.describe().catch(() => undefined);
      const status = (await handle.query(agentStatusQuery).catch(() => undefined)) ?? undefined;
      const calls = await handle.query(toolCallsQuery).catch(() => []);
      for (const call of calls.slice(seenCalls)) send('tool_call', call);
      seenCalls = Math.max(seenCalls, calls.length);
      const statusKey = JSON.stringify(status ?? null);
      if (status && statusKey !== lastStatus) {
        send(status.pendingApproval ? 'approval_waiting' : 'status', status);
        lastStatus = statusKey;
      }
      const saga = await handle.query(sagaStateQuery).catch(() => undefined);
      if (
        saga &&
        (saga.status === 'compensating' ||
          saga.status === 'compensated' ||
          saga.status === 'compensation_failed')
      ) {
        const sagaKey = JSON.stringify(saga);
        if (sagaKey !== lastSaga) send('compensation', saga);
        lastSaga = sagaKey;
      }
      if (description && description.status.name !== 'RUNNING') {
        send('end', { status: description.status.name });
        break;
      }
      await new Promise((r) => setTimeout(r, options.eventsIntervalMs ?? 500));
    }
    raw.end();
  });

  return app;
}

/** Starts the API on host:port (default 127.0.0.1, ephemeral port). */
export async function startApi(options: ApiOptions & { host?: string; port?: number }) {
  const app = await buildApi(options);
  const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return { url: address, app, close: () => app.close() };
}
