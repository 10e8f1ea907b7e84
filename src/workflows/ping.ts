import { proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { EngineActivities } from '../activities/engine.js';

const { recordEvent } = proxyActivities<EngineActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { maximumAttempts: 5 },
});

/** Proves the plumbing: one activity writes one row to Postgres. Returns the row id. */
export async function pingWorkflow(message: string): Promise<{ eventId: number }> {
  const { id } = await recordEvent({ taskId: workflowInfo().workflowId, kind: 'ping', detail: { message } });
  return { eventId: id };
}
