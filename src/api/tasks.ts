import { randomUUID } from 'node:crypto';
import {
  WorkflowFailedError,
  WorkflowIdConflictPolicy,
  WorkflowNotFoundError,
  type Client,
  type WorkflowHandle,
} from '@temporalio/client';
import type pg from 'pg';
import { uiLink } from '../client.js';
import { fingerprint } from '../idempotency/keys.js';
import {
  agentStatusQuery,
  agentWorkflow,
  orderWorkflow,
  sagaStateQuery,
  stepsQuery,
  toolCallsQuery,
  usageQuery,
} from '../workflows/index.js';
import { TASK_KIND, TASK_STATUS } from '../workflows/search-attributes.js';
import type { CreateTask } from './schemas.js';

/** What the API needs to reach Temporal and our tables. */
export interface TaskService {
  client: Client;
  pool: pg.Pool;
  taskQueue: string;
  uiUrl: string;
}

/** A request failure with the HTTP status and a stable code. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/**
 * Starts a task with workflow ID = the caller's Idempotency-Key (or taskId). The first body seen for a
 * key is remembered: the same key and body again attach to the same run (replayed); the same key with
 * another body is a 422; concurrent identical requests all land on one run (USE_EXISTING).
 */
export async function startTask(
  svc: TaskService,
  body: CreateTask,
  idempotencyKey: string | undefined,
): Promise<{ workflowId: string; runId: string; replayed: boolean }> {
  const key = idempotencyKey ?? body.taskId;
  const workflowId = key ?? `task-${randomUUID()}`;
  let replayed = false;
  if (key) {
    const fp = fingerprint(body);
    const inserted = await svc.pool.query(
      'INSERT INTO api_requests (key, fingerprint, workflow_id) VALUES ($1, $2, $3) ON CONFLICT (key) DO NOTHING',
      [key, fp, workflowId],
    );
    if (inserted.rowCount === 0) {
      const { rows } = await svc.pool.query<{ fingerprint: string }>(
        'SELECT fingerprint FROM api_requests WHERE key = $1',
        [key],
      );
      if (rows[0]?.fingerprint !== fp) {
        throw new ApiError(
          422,
          'IDEMPOTENCY_KEY_REUSED',
          `Idempotency-Key ${key} was first used with another request body (${rows[0]?.fingerprint ?? '?'} ≠ ${fp})`,
        );
      }
      replayed = true;
    }
  }
  const common = {
    taskQueue: svc.taskQueue,
    workflowId,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
  };
  const handle =
    body.kind === 'agent'
      ? await svc.client.workflow.start(agentWorkflow, {
          ...common,
          staticSummary: `agent task${body.customerId ? ` for ${body.customerId}` : ''}`,
          staticDetails: body.prompt.slice(0, 500),
          args: [
            {
              prompt: body.prompt,
              ...(body.customerId ? { customerId: body.customerId } : {}),
              ...(body.scenario ? { scenario: body.scenario } : {}),
              ...(body.maxTurns ? { maxTurns: body.maxTurns } : {}),
              ...(body.approvalLimit !== undefined ? { approvalLimit: body.approvalLimit } : {}),
            },
          ],
        })
      : await svc.client.workflow.start(orderWorkflow, {
          ...common,
          staticSummary: `order ${body.order.orderId} for ${body.order.customerId}`,
          args: [
            {
              ...body.order,
              ...(body.order.paymentMethod ? { paymentMethod: body.order.paymentMethod } : {}),
            } as Parameters<typeof orderWorkflow>[0],
          ],
        });
  return { workflowId, runId: handle.firstExecutionRunId, replayed };
}

function handleOf(svc: TaskService, id: string): WorkflowHandle {
  return svc.client.workflow.getHandle(id);
}

/** Status, result, saga state, tool calls with keys and outcomes, usage, and the Web UI link. */
export async function describeTask(svc: TaskService, id: string) {
  const handle = handleOf(svc, id);
  let description;
  try {
    description = await handle.describe();
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new ApiError(404, 'TASK_NOT_FOUND', `no task ${id}`);
    throw err;
  }
  const kind =
    description.typedSearchAttributes.get(TASK_KIND) ??
    (description.type === 'agentWorkflow' ? 'agent' : 'order');
  const query = async <T>(fn: () => Promise<T>): Promise<T | null> => fn().catch(() => null);
  const base = {
    id,
    runId: description.runId,
    kind,
    workflowStatus: description.status.name,
    status: description.typedSearchAttributes.get(TASK_STATUS) ?? description.status.name.toLowerCase(),
    startedAt: description.startTime.toISOString(),
    closedAt: description.closeTime?.toISOString() ?? null,
    link: uiLink(svc.uiUrl, svc.client.options.namespace, id, description.runId),
    saga: await query(() => handle.query(sagaStateQuery)),
  };
  let result: unknown = null;
  let failure: string | null = null;
  if (description.status.name === 'COMPLETED') result = await handle.result();
  if (description.status.name === 'FAILED' || description.status.name === 'CANCELLED') {
    failure = await handle.result().then(
      () => null,
      (err: unknown) =>
        err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err),
    );
  }
  if (kind === 'agent') {
    return {
      ...base,
      result,
      failure,
      agent: await query(() => handle.query(agentStatusQuery)),
      toolCalls: (await query(() => handle.query(toolCallsQuery))) ?? [],
      usage: await query(() => handle.query(usageQuery)),
    };
  }
  return { ...base, result, failure, toolCalls: (await query(() => handle.query(stepsQuery))) ?? [] };
}

/** Tasks by status, from the visibility store (search attribute OnceflowStatus). */
export async function listTasks(svc: TaskService, status: string | undefined, limit: number) {
  const query = status ? `OnceflowStatus = '${status.replace(/'/g, '')}'` : `OnceflowKind IS NOT NULL`;
  const tasks: {
    id: string;
    runId: string;
    kind: string | null;
    status: string | null;
    startedAt: string;
  }[] = [];
  for await (const wf of svc.client.workflow.list({ query })) {
    tasks.push({
      id: wf.workflowId,
      runId: wf.runId,
      kind: wf.typedSearchAttributes.get(TASK_KIND) ?? null,
      status: wf.typedSearchAttributes.get(TASK_STATUS) ?? null,
      startedAt: wf.startTime.toISOString(),
    });
    if (tasks.length >= limit) break;
  }
  return tasks;
}
