import { proxyLocalActivities } from '@temporalio/workflow';
import type { EngineActivities } from '../activities/engine.js';
import type { Saga } from './saga.js';
import { onceflowPatched } from './patches.js';

const RECONCILE_BEFORE_COMPLETE = 'reconcile-undone-before-complete';

const { undoneEffects } = proxyLocalActivities<EngineActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 10 },
});

/**
 * Before a task reports `completed`: asks the ledger which of the steps this run believes in effect
 * were undone since, and marks them `undone` in the saga. A run created by a reset inherits step
 * results from history that the run it replaced may have compensated (an abort, a failure); without
 * this check it would report them done. Workflow code cannot tell a reset run from a first run in a
 * way that replays identically (a replayer sees a reset run with the run ID of its started event, a live worker with its own), so every
 * run checks: one read-only local activity, one indexed query, no server round trip of its own.
 * Histories recorded before the check replay without it.
 */
export async function reconcileBeforeComplete(saga: Saga): Promise<string[]> {
  const keys = saga.succeededKeys();
  if (keys.length === 0 || !onceflowPatched(RECONCILE_BEFORE_COMPLETE)) return [];
  const undone = await undoneEffects.executeWithOptions(
    { summary: `check ${keys.length} effects are still in effect` },
    [{ keys }],
  );
  if (undone.length > 0) saga.markUndone(undone);
  return undone;
}
