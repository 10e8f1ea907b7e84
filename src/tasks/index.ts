export { describeCurrentRun, describeTask, runsOf, type TaskOutcome, type TaskRun } from './describe.js';
export { IdempotencyKeyReusedError, InvalidTaskRequestError, TaskNotFoundError } from './errors.js';
export {
  listTasks,
  TASK_STATUSES,
  type ListTasksOptions,
  type TaskListEntry,
  type TaskStatus,
} from './list.js';
export {
  agentFields,
  agentTask,
  defineTask,
  registryOf,
  TaskRegistry,
  type AgentTaskOptions,
  type ParsedTask,
  type TaskKind,
  type TaskKindSpec,
} from './kinds.js';
export { formatIssues, parseTaskKey, taskKey, type CreateTask } from './request.js';
export type { TaskService } from './service.js';
export { startTask, type StartTaskOptions, type TaskReceipt } from './start.js';
