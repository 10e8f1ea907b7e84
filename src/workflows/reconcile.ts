import { patched, proxyActivities, workflowInfo } from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { readCall } from './options.js';
import type { Saga } from './saga.js';

const RECONCILE_AFTER_RESET = 'reconcile-undone-after-reset';

/**
 * After a reset, before a task reports `completed`: the run inherited step results from history, but
 * the run the reset replaced may have compensated those steps since (an abort, a failure). Asks the
 * ledger which of the steps this run believes in effect were undone and marks them `undone` in the
 * saga, so a completed task never reports an effect that is not in effect downstream. Only reset runs
 * (their run ID differs from the one on the started event) pay for the activity; histories recorded
 * before this check replay without it.
 */
export async function reconcileAfterReset(saga: Saga): Promise<string[]> {
  const info = workflowInfo();
  if (info.runId === info.originalExecutionRunId) return [];
  const keys = saga.succeededKeys();
  if (keys.length === 0 || !patched(RECONCILE_AFTER_RESET)) return [];
  const { undoneEffects } = proxyActivities<Activities>(readCall);
  const undone = await undoneEffects.executeWithOptions(
    { summary: `check ${keys.length} inherited effects after reset` },
    [{ keys }],
  );
  if (undone.length > 0) saga.markUndone(undone);
  return undone;
}
