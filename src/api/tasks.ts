import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import type { FastifyPluginCallback, FastifyReply } from 'fastify';
import type { z } from 'zod';
import { uiLink } from '../client.js';
import {
  describeCurrentRun,
  describeTask,
  listTasks,
  registryOf,
  startTask,
  type CreateTask,
  type TaskKind,
  type TaskReceipt,
  type TaskRegistry,
  type TaskService,
} from '../tasks/index.js';
import { approveUpdate, denyUpdate } from '../workflows/index.js';
import { ApiError } from './errors.js';
import type { StreamListener } from '../stream/listener.js';
import type { TaskStream } from '../stream/store.js';
import { EVENTS_DESCRIPTION } from './events-doc.js';
import { resumeAfter, streamEvents } from './events.js';
import { decision, jsonSchema, listQuery, taskKey } from './schemas.js';
import { routeSchema } from './validation.js';

/** Options of {@link taskRoutes}. */
export interface TaskRoutesOptions extends TaskService {
  tasks: readonly TaskKind[] | TaskRegistry;
  /** How often a task's events stream reads its queries; default 500 ms. */
  eventsIntervalMs?: number | undefined;
  /** The live streams `GET /tasks/:id/events` reads, and this process's `LISTEN` connection. */
  live: { stream: TaskStream; listener: StreamListener };
}

const selfOf = (id: string) => `/tasks/${encodeURIComponent(id)}`;

/** The body of `POST /tasks`, 201 and replayed 200 alike. */
function receiptBody(svc: TaskService, receipt: TaskReceipt) {
  const { replayed: _header, ...task } = receipt;
  const runId = receipt.currentRunId ?? receipt.runId ?? undefined;
  return {
    ...task,
    links: {
      self: selfOf(receipt.workflowId),
      events: `${selfOf(receipt.workflowId)}/events`,
      ui: uiLink(svc.uiUrl, svc.client.options.namespace, receipt.workflowId, runId),
    },
  };
}

/** `/tasks` and below: start, list, describe, approve, deny, cancel and follow tasks. */
export function taskRoutes(options: TaskRoutesOptions): FastifyPluginCallback {
  const registry = registryOf(options.tasks);
  const kinds = [...registry.kinds.keys()].join(', ');
  return (app, _options, done) => {
    app.post(
      '/tasks',
      {
        schema: {
          summary: `Start a task (${kinds}), once per Idempotency-Key`,
          headers: {
            type: 'object',
            properties: {
              'idempotency-key': {
                type: 'string',
                description: taskKey.description ?? 'visible ASCII, ≤ 255',
              },
            },
          },
          // Documents the body; startTask validates it (400 naming the field, or the known kinds).
          body: jsonSchema(registry.schema),
        },
      },
      async (request, reply) => {
        const key = request.headers['idempotency-key'];
        if (Array.isArray(key)) throw new ApiError(400, 'INVALID_REQUEST', 'Idempotency-Key: send it once');
        const receipt = await startTask(options, request.body as CreateTask, {
          idempotencyKey: key,
          keyName: 'Idempotency-Key',
        });
        if (receipt.replayed) void reply.header('idempotent-replayed', 'true');
        return reply.code(receipt.replayed ? 200 : 201).send(receiptBody(options, receipt));
      },
    );

    app.get(
      '/tasks',
      {
        schema: {
          summary: 'Tasks, one per workflow ID, with their current run',
          querystring: routeSchema(listQuery),
        },
      },
      async (request) => {
        const q = request.query as z.infer<typeof listQuery>;
        return { tasks: await listTasks(options, { status: q.status, limit: q.limit ?? 50 }) };
      },
    );

    app.get(
      '/tasks/:id',
      { schema: { summary: 'A task: its current run, result, tool calls and runs' } },
      async (request) => describeTask(options, (request.params as { id: string }).id),
    );

    const decide =
      (approved: boolean) => async (request: { params: unknown; body: unknown }, reply: FastifyReply) => {
        const id = (request.params as { id: string }).id;
        await describeCurrentRun(options, id); // 404 for an unknown task
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
            const why = err instanceof WorkflowUpdateFailedError && err.cause ? `: ${err.cause.message}` : '';
            throw new ApiError(
              409,
              'NOTHING_TO_APPROVE',
              `task ${id} has no such call waiting for approval${why}`,
            );
          }
          throw err;
        }
      };
    app.post('/tasks/:id/approve', { schema: { body: routeSchema(decision.optional()) } }, decide(true));
    app.post('/tasks/:id/deny', { schema: { body: routeSchema(decision.optional()) } }, decide(false));

    app.post('/tasks/:id/cancel', async (request, reply) => {
      const id = (request.params as { id: string }).id;
      const { description } = await describeCurrentRun(options, id);
      if (description.status.name !== 'RUNNING')
        throw new ApiError(409, 'TASK_CLOSED', `task ${id} is ${description.status.name}`);
      await options.client.workflow.getHandle(id).cancel();
      return reply.code(202).send({ id, cancelling: true });
    });

    app.get(
      '/tasks/:id/events',
      {
        schema: {
          summary: 'Follow a task live (Server-Sent Events), resumable with Last-Event-ID',
          description: EVENTS_DESCRIPTION,
          headers: {
            type: 'object',
            properties: {
              'last-event-id': {
                type: 'string',
                description: 'The id of the last event received: the stream resumes after it.',
              },
            },
          },
          querystring: {
            type: 'object',
            properties: {
              after: {
                type: 'string',
                description: 'As Last-Event-ID, for clients that cannot set headers.',
              },
            },
          },
          response: {
            200: {
              description: 'text/event-stream: frames `id`, `event` (the kind), `data` (JSON)',
              content: { 'text/event-stream': { schema: { type: 'string' } } },
            },
          },
        },
      },
      async (request, reply) => {
        const id = (request.params as { id: string }).id;
        await describeCurrentRun(options, id);
        await streamEvents(
          { client: options.client, ...options.live, intervalMs: options.eventsIntervalMs ?? 500 },
          id,
          resumeAfter(request),
          request,
          reply,
        );
      },
    );
    done();
  };
}
