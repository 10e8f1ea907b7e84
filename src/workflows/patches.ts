import { patched, workflowInfo } from '@temporalio/workflow';

/**
 * The one patch a run records, in its first workflow task, when it starts on code that has every
 * onceflow patch below: then no other patch is asked about (no marker, no `TemporalChangeVersion`
 * upsert). Runs recorded before it ask each patch where its change is, as they always did.
 *
 * Why: a `patched()` call that comes after a local activity in the same workflow task is not
 * replayable when that task outlived 80% of its timeout (a slow local activity, a starved worker):
 * the worker then completes the task early ("heartbeat"), the patch's marker lands in the next task,
 * and on replay the code reaches `patched()` before the SDK knows of that marker, takes the old path
 * and fails with "Non-deprecated patch marker encountered … but there is no corresponding change
 * command". Asked first thing in the first task, no local activity can come before it.
 */
const ALL_CURRENT = 'onceflow-patches-at-start';

/** Per workflow run (workflow globals are per execution). */
let current = false;

/**
 * Called first by every onceflow workflow entry (agents, `runSaga`). In the run's first workflow
 * task it records (or, replaying, finds) {@link ALL_CURRENT}; later, or for a history without it,
 * each patch is asked where it always was.
 */
export function startPatches(): void {
  // The first workflow task of a run holds exactly: started, task scheduled, task started.
  current = workflowInfo().historyLength <= 3 && patched(ALL_CURRENT);
}

/** `patched(id)` for onceflow's own changes: true without a marker in runs started on current code. */
export function onceflowPatched(id: string): boolean {
  return current || patched(id);
}
