import type { WorkflowExecutionInfo } from '@temporalio/client';
import { TASK_KIND, TASK_STATUS } from '../workflows/search-attributes.js';
import { quote } from './describe.js';
import type { TaskService } from './service.js';

/** Every value the workflows give `OnceflowStatus`. */
export const TASK_STATUSES = [
  'running',
  'waiting_approval',
  'completed',
  'compensated',
  'compensation_failed',
  'failed',
  'denied',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

/** A task in a list: its current run. */
export interface TaskListEntry {
  id: string;
  runId: string;
  kind: string | null;
  status: string | null;
  startedAt: string;
}

/** Options of {@link listTasks}. */
export interface ListTasksOptions {
  /** Only tasks whose current run has this status. Default: every task. */
  status?: TaskStatus | undefined;
  /** At most this many tasks. */
  limit: number;
}

/**
 * Tasks from the visibility store, one entry per workflow ID with its current run (a reset or
 * continue-as-new adds runs to a task, not tasks). With `status`, a task is listed when its current
 * run has it, not an older one; such tasks are skipped, so fewer than `limit` may come back.
 * Visibility trails the server by a moment.
 */
export async function listTasks(svc: TaskService, options: ListTasksOptions): Promise<TaskListEntry[]> {
  const query = options.status ? `OnceflowStatus = ${quote(options.status)}` : 'OnceflowKind IS NOT NULL';
  const latest = await latestRuns(svc, query, options.limit);
  if (options.status) {
    const ids = [...latest.keys()];
    // In slices, to keep each visibility query short.
    for (let i = 0; i < ids.length; i += 50) {
      const slice = ids.slice(i, i + 50);
      const current = await latestRuns(svc, `WorkflowId IN (${slice.map(quote).join(', ')})`);
      for (const id of slice) if (current.get(id)?.runId !== latest.get(id)?.runId) latest.delete(id);
    }
  }
  return [...latest.values()].map((wf) => ({
    id: wf.workflowId,
    runId: wf.runId,
    kind: wf.typedSearchAttributes.get(TASK_KIND) ?? null,
    status: wf.typedSearchAttributes.get(TASK_STATUS) ?? null,
    startedAt: wf.startTime.toISOString(),
  }));
}

/** The newest run of each workflow ID the query matches, for at most `limit` IDs. */
async function latestRuns(
  svc: TaskService,
  query: string,
  limit = Infinity,
): Promise<Map<string, WorkflowExecutionInfo>> {
  const latest = new Map<string, WorkflowExecutionInfo>();
  for await (const wf of svc.client.workflow.list({ query })) {
    const seen = latest.get(wf.workflowId);
    if (!seen && latest.size >= limit) break;
    if (!seen || wf.startTime > seen.startTime) latest.set(wf.workflowId, wf);
  }
  return latest;
}
