import {
  WorkflowFailedError,
  WorkflowNotFoundError,
  type WorkflowExecutionDescription,
  type WorkflowHandle,
} from '@temporalio/client';
import { uiLink } from '../client.js';
import {
  agentStatusQuery,
  sagaStateQuery,
  stepsQuery,
  toolCallsQuery,
  usageQuery,
} from '../workflows/index.js';
import { TASK_KIND, TASK_STATUS } from '../workflows/search-attributes.js';
import { TaskNotFoundError } from './errors.js';
import type { TaskService } from './service.js';

/** One run of a task: the first, and one more per reset or continue-as-new. */
export interface TaskRun {
  runId: string;
  workflowStatus: string;
  startedAt: string;
  closedAt: string | null;
}

/** How a task's current run ended: the result when it completed, the reason when it failed. */
export interface TaskOutcome {
  result: unknown;
  failure: string | null;
}

/** The current run's description; {@link TaskNotFoundError} when Temporal has no such workflow. */
export async function describeCurrentRun(
  svc: TaskService,
  id: string,
): Promise<{ handle: WorkflowHandle; description: WorkflowExecutionDescription }> {
  // No run ID: the handle follows the task to its current run (after a reset or continue-as-new).
  const handle = svc.client.workflow.getHandle(id);
  try {
    return { handle, description: await handle.describe() };
  } catch (err) {
    if (err instanceof WorkflowNotFoundError) throw new TaskNotFoundError(`no task ${id}`, { cause: err });
    throw err;
  }
}

/** The first run of the task's chain (resets and continue-as-new keep it). */
export function firstRunIdOf(description: WorkflowExecutionDescription): string {
  return description.raw.workflowExecutionInfo?.firstRunId || description.runId;
}

/** The task's status: its `OnceflowStatus`, else the workflow status in lower case. */
export function statusOf(description: WorkflowExecutionDescription): string {
  return description.typedSearchAttributes.get(TASK_STATUS) ?? description.status.name.toLowerCase();
}

/** The result of a completed run, the failure message of a failed, cancelled or terminated one. */
export async function outcomeOf(
  handle: WorkflowHandle,
  description: WorkflowExecutionDescription,
): Promise<TaskOutcome> {
  const status = description.status.name;
  if (status === 'RUNNING' || status === 'CONTINUED_AS_NEW') return { result: null, failure: null };
  if (status === 'COMPLETED') return { result: await handle.result(), failure: null };
  const failure = await handle.result().then(
    () => null,
    (err: unknown) =>
      err instanceof WorkflowFailedError ? (err.cause?.message ?? err.message) : String(err),
  );
  return { result: null, failure };
}

/**
 * Every run Temporal lists for the task, newest first. From the visibility store, which trails the
 * server by a moment: a run started a few milliseconds ago may be missing.
 */
export async function runsOf(svc: TaskService, id: string): Promise<TaskRun[]> {
  const runs: TaskRun[] = [];
  for await (const wf of svc.client.workflow.list({ query: `WorkflowId = ${quote(id)}` })) {
    runs.push({
      runId: wf.runId,
      workflowStatus: wf.status.name,
      startedAt: wf.startTime.toISOString(),
      closedAt: wf.closeTime?.toISOString() ?? null,
    });
  }
  return runs.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** A string as a visibility query literal. */
export function quote(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/**
 * Status, result, saga state, tool calls with keys and outcomes, usage, the Web UI link, and the
 * task's runs. `runId` is the current run. Throws {@link TaskNotFoundError} for an unknown task.
 */
export async function describeTask(svc: TaskService, id: string) {
  const { handle, description } = await describeCurrentRun(svc, id);
  const kind = description.typedSearchAttributes.get(TASK_KIND) ?? description.type;
  const query = async <T>(fn: () => Promise<T>): Promise<T | null> => fn().catch(() => null);
  const base = {
    id,
    runId: description.runId,
    firstRunId: firstRunIdOf(description),
    kind,
    workflowStatus: description.status.name,
    status: statusOf(description),
    startedAt: description.startTime.toISOString(),
    closedAt: description.closeTime?.toISOString() ?? null,
    link: uiLink(svc.uiUrl, svc.client.options.namespace, id, description.runId),
    runs: await runsOf(svc, id),
    saga: await query(() => handle.query(sagaStateQuery)),
    ...(await outcomeOf(handle, description)),
  };
  if (kind === 'agent') {
    return {
      ...base,
      agent: await query(() => handle.query(agentStatusQuery)),
      toolCalls: (await query(() => handle.query(toolCallsQuery))) ?? [],
      usage: await query(() => handle.query(usageQuery)),
    };
  }
  return { ...base, toolCalls: (await query(() => handle.query(stepsQuery))) ?? [] };
}
