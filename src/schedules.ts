import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client';
import { ConfigError } from './errors.js';
import { pruneLedgerWorkflow } from './workflows/index.js';

/** The Schedule that prunes the ledger. */
export const PRUNE_SCHEDULE_ID = 'onceflow-ledger-prune';

/** Options of {@link ensurePruneSchedule}. */
export interface PruneScheduleOptions {
  taskQueue: string;
  /** `LEDGER_RETENTION_DAYS`: how long ledger rows are kept. */
  retentionDays: number;
  /** `TASK_MAX_DAYS`: the longest a task may live; the retention must exceed it. */
  maxTaskDays: number;
  /** Default {@link PRUNE_SCHEDULE_ID}. */
  scheduleId?: string;
}

/**
 * Creates the daily prune Schedule once; later starts find it and leave it alone (created exactly once
 * across restarts and workers). Refuses a retention that does not outlive the longest task: a key
 * pruned while its task still runs could be executed again.
 */
export async function ensurePruneSchedule(
  client: Client,
  options: PruneScheduleOptions,
): Promise<'created' | 'exists'> {
  if (options.retentionDays <= options.maxTaskDays) {
    throw new ConfigError(
      `LEDGER_RETENTION_DAYS=${options.retentionDays} must exceed TASK_MAX_DAYS=${options.maxTaskDays}: ` +
        'a key pruned while its task still runs could be executed twice',
    );
  }
  try {
    await client.schedule.create({
      scheduleId: options.scheduleId ?? PRUNE_SCHEDULE_ID,
      spec: { calendars: [{ hour: 3, minute: 17 }] },
      action: {
        type: 'startWorkflow',
        workflowType: pruneLedgerWorkflow,
        taskQueue: options.taskQueue,
        args: [],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP, catchupWindow: '1 day' },
      memo: { retentionDays: options.retentionDays },
    });
    return 'created';
  } catch (err) {
    if (err instanceof ScheduleAlreadyRunning) return 'exists';
    throw err;
  }
}
