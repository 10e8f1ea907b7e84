import type { Client } from '@temporalio/client';
import type pg from 'pg';
import type { TaskKind, TaskRegistry } from './kinds.js';

/** What the task functions need: Temporal, our tables, the task kinds, the task queue and the Web UI's address. */
export interface TaskService {
  client: Client;
  /** Holds `api_requests`, the first body and run seen for each idempotency key. */
  pool: pg.Pool;
  /** The kinds of task that may be started (`defineTask` / `agentTask`); needed by `startTask` only. */
  tasks?: readonly TaskKind[] | TaskRegistry;
  /** Where new tasks are started (`TASK_QUEUE`). */
  taskQueue: string;
  /** Base of the Web UI links (`TEMPORAL_UI_URL`). */
  uiUrl: string;
}
