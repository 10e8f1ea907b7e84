import { proxyActivities } from '@temporalio/workflow';
import type { EngineActivities } from '../activities/engine.js';

const { pruneLedger } = proxyActivities<EngineActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '30 seconds',
  retry: { maximumAttempts: 5 },
});

/** Run daily by the `onceflow-ledger-prune` Schedule: removes ledger rows and stored transcript messages past
 * their retention. */
export async function pruneLedgerWorkflow(): Promise<{
  deleted: number;
  transcriptMessagesDeleted: number;
  streamEventsDeleted?: number;
}> {
  return pruneLedger();
}
