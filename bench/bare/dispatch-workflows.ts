import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';

/** A no-op activity: what Temporal's dispatch costs with no work at all. */
export interface NoopActivities {
  noop(): Promise<void>;
}

const regular = proxyActivities<NoopActivities>({ startToCloseTimeout: '10 seconds' });
const local = proxyLocalActivities<NoopActivities>({ startToCloseTimeout: '10 seconds' });

/** A workflow with no activity: one workflow task. */
export async function emptyWorkflow(): Promise<void> {
  return Promise.resolve();
}

/** Four no-op activities one after another: four activity and four more workflow-task dispatches. */
export async function fourSequentialWorkflow(): Promise<void> {
  for (let i = 0; i < 4; i++) await regular.noop();
}

/** Four no-op activities at once. */
export async function fourParallelWorkflow(): Promise<void> {
  await Promise.all([regular.noop(), regular.noop(), regular.noop(), regular.noop()]);
}

/** Four no-op local activities one after another: run inside the workflow task's worker. */
export async function fourLocalWorkflow(): Promise<void> {
  for (let i = 0; i < 4; i++) await local.noop();
}
