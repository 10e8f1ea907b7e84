import { randomUUID } from 'node:crypto';
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowIdConflictPolicy,
  WorkflowIdReusePolicy,
} from '@temporalio/client';
import { fingerprint } from '../idempotency/keys.js';
import { describeCurrentRun, firstRunIdOf, outcomeOf, statusOf } from './describe.js';
import { IdempotencyKeyReusedError, InvalidTaskRequestError, TaskNotFoundError } from './errors.js';
import { claimKey, markStarted } from './keys.js';
import { registryOf, type ParsedTask } from './kinds.js';
import { parseTaskKey, type CreateTask } from './request.js';
import type { TaskService } from './service.js';

/** What {@link startTask} answers: the task a request names, new or found. */
export interface TaskReceipt {
  /** The task's workflow ID: the idempotency key, else a generated `task-<uuid>`. */
  workflowId: string;
  /**
   * The run this key started, the first of the task's chain. Null only for a key recorded before
   * run IDs were (migration 006) whose workflow Temporal no longer has.
   */
  runId: string | null;
  /** The run holding the task now: a reset or continue-as-new moves it on. Null when expired. */
  currentRunId: string | null;
  /** `OnceflowStatus` of the current run (`running`, `completed`, …); `expired` when Temporal forgot it. */
  status: string;
  /** Temporal's status of the current run (`RUNNING`, `COMPLETED`, …); null when expired. */
  workflowStatus: string | null;
  /** The workflow's result once the current run completed, else null. */
  result: unknown;
  /** Why the current run failed, was cancelled or terminated, else null. */
  failure: string | null;
  /** True when the task existed before this call: nothing was started. */
  replayed: boolean;
}

/** Options of {@link startTask}. */
export interface StartTaskOptions {
  /** The caller's idempotency key (`Idempotency-Key`, `--id`); default the body's `taskId`. */
  idempotencyKey?: string | undefined;
  /** How the caller names the key in errors. Default `Idempotency-Key`. */
  keyName?: string;
}

/**
 * Starts a task, at most once per idempotency key: the one door of the API's `POST /tasks` and the
 * CLI's `run`. The key (the `idempotencyKey` option, else the body's `taskId`) is the workflow ID;
 * without one, a new task starts under a generated ID every time.
 *
 * - First use of a key: records the key with the body's fingerprint in `api_requests`, starts the
 *   workflow, records its run; `replayed: false`.
 * - The same key and body again, while the task runs or after it finished, failed or was reset:
 *   starts nothing and answers the task as it is now (`replayed: true`): `runId` the first run,
 *   `currentRunId`, `status` and `result` of the current run. Re-running a finished task is a reset,
 *   never a retry. Concurrent identical calls land on one run (Temporal's `USE_EXISTING` while it runs,
 *   `REJECT_DUPLICATE` once it closed).
 * - The same key, and Temporal no longer has the workflow (past retention): starts nothing, answers
 *   `status: 'expired'` with the recorded run. Keys are kept in `api_requests` with no expiry.
 * - The same key with another body: {@link IdempotencyKeyReusedError} (HTTP 422), nothing started.
 * - A bad body or key, or a `taskId` that differs from the key: {@link InvalidTaskRequestError}.
 * - A workflow ID that no key recorded (started by other means): a closed one is answered as a
 *   replay; a running one is attached to, but reported as started (`replayed: false`).
 *
 * - A `kind` not among `svc.tasks`: {@link InvalidTaskRequestError} naming the known kinds.
 *
 * A crash between recording the key and starting the workflow leaves the key unstarted: the next
 * call with it starts the task. Temporal and Postgres errors propagate; retrying is safe.
 */
export async function startTask(
  svc: TaskService & Required<Pick<TaskService, 'tasks'>>,
  request: CreateTask,
  options: StartTaskOptions = {},
): Promise<TaskReceipt> {
  const parsed = registryOf(svc.tasks).parse(request);
  const { body } = parsed;
  const keyName = options.keyName ?? 'Idempotency-Key';
  const key =
    options.idempotencyKey === undefined ? body.taskId : parseTaskKey(options.idempotencyKey, keyName);
  if (key !== undefined && body.taskId !== undefined && body.taskId !== key) {
    throw new InvalidTaskRequestError(`taskId: differs from the ${keyName} ${key}; send one or the same`);
  }
  if (key === undefined) {
    const started = await startWorkflow(svc, `task-${randomUUID()}`, parsed);
    return created(started.workflowId, started.runId);
  }
  const claim = await claimKey(svc.pool, key, fingerprint(body));
  if (claim.kind === 'conflict') {
    throw new IdempotencyKeyReusedError(
      `${options.idempotencyKey === undefined ? 'taskId' : keyName} ${key} was first used with another request body (${claim.fingerprint} ≠ ${fingerprint(body)})`,
    );
  }
  if (claim.kind === 'started') return current(svc, key, claim.firstRunId);
  try {
    const { runId } = await startWorkflow(svc, key, parsed);
    if (claim.kind === 'new') {
      await markStarted(svc.pool, key, runId);
      return created(key, runId);
    }
    // The key was claimed before: a concurrent or retried request, attached to the running task.
  } catch (err) {
    // Closed under this ID: REJECT_DUPLICATE refused a second run, as it should.
    if (!(err instanceof WorkflowExecutionAlreadyStartedError)) throw err;
  }
  // Temporal's first run of the chain, not the run USE_EXISTING answered (a reset may have moved on).
  const found = await current(svc, key, null);
  await markStarted(svc.pool, key, found.runId);
  return found;
}

function created(workflowId: string, runId: string): TaskReceipt {
  return {
    workflowId,
    runId,
    currentRunId: runId,
    status: 'running',
    workflowStatus: 'RUNNING',
    result: null,
    failure: null,
    replayed: false,
  };
}

/** The task as it is now, for a key that already named it. */
async function current(
  svc: TaskService,
  workflowId: string,
  firstRunId: string | null,
): Promise<TaskReceipt> {
  try {
    const { handle, description } = await describeCurrentRun(svc, workflowId);
    return {
      workflowId,
      runId: firstRunId ?? firstRunIdOf(description),
      currentRunId: description.runId,
      status: statusOf(description),
      workflowStatus: description.status.name,
      ...(await outcomeOf(handle, description)),
      replayed: true,
    };
  } catch (err) {
    if (!(err instanceof TaskNotFoundError)) throw err;
    return {
      workflowId,
      runId: firstRunId,
      currentRunId: null,
      status: 'expired',
      workflowStatus: null,
      result: null,
      failure: null,
      replayed: true,
    };
  }
}

async function startWorkflow(
  svc: TaskService,
  workflowId: string,
  { kind, body }: ParsedTask,
): Promise<{ workflowId: string; runId: string }> {
  const { kind: _kind, taskId: _taskId, ...fields } = body;
  const summary = kind.summary(fields);
  const details = kind.details(fields);
  const handle = await svc.client.workflow.start(kind.workflowType, {
    taskQueue: svc.taskQueue,
    workflowId,
    // Never a second run under a key: a closed task is answered, not re-run (a reset re-runs it).
    workflowIdReusePolicy: WorkflowIdReusePolicy.REJECT_DUPLICATE,
    workflowIdConflictPolicy: WorkflowIdConflictPolicy.USE_EXISTING,
    ...(summary ? { staticSummary: summary } : {}),
    ...(details ? { staticDetails: details } : {}),
    args: kind.args(fields),
  });
  return { workflowId, runId: handle.firstExecutionRunId };
}
