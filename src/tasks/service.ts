import type { Client } from '@temporalio/client';
import type pg from 'pg';

/** What the task functions need: Temporal, our tables, the task queue and the Web UI's address. */
export interface TaskService {
  client: Client;
  /** Holds `api_requests`, the first body and run seen for each idempotency key. */
  pool: pg.Pool;
  /** Where new tasks are started (`TASK_QUEUE`). */
  taskQueue: string;
  /** Base of the Web UI links (`TEMPORAL_UI_URL`). */
  uiUrl: string;
}
