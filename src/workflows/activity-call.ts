import {
  proxyActivities,
  proxyLocalActivities,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type LocalActivityInterfaceFor,
  type LocalActivityOptions,
} from '@temporalio/workflow';

import type { Execution } from '../tools/define.js';
import { onceflowPatched } from './patches.js';

/**
 * The default for tools that do not choose, in agents and `runSaga`: `local`, by measurement. Four
 * sequential no-op activities take 2.3x as long as four local ones (`npm run bench -- dispatch`), and
 * the order saga with local steps makes 1.10x the throughput of the bare saga with regular activities
 * at concurrency 32, where with regular steps it made 0.66x (`npm run bench -- e2e`).
 *
 * Safe because the ledger covers what local activities add: a re-run after a failed workflow task is
 * answered by the ledger, and a step a failed workflow task performed but this run's history never
 * recorded (the re-execution took another path, say a cancel now seen before that step) is found in
 * the ledger by the saga before it compensates or completes, and undone (`unrecordedSteps`). A `Saga`
 * you build yourself without that option makes `toolStep` default to `regular`.
 *
 * Choose `regular` for a tool whose downstream call may outlast the local start-to-close (5 s): the
 * claim's lease is that timeout plus 5 s, and a call still running past the lease can overlap a retry.
 */
export const DEFAULT_EXECUTION: Execution = 'local';

/** Activity options for both execution modes of one kind of call (effect, compensation, read). */
export interface CallOptions {
  regular: ActivityOptions;
  local: LocalActivityOptions;
}

// Runs recorded before local execution existed scheduled every tool activity as a regular activity:
// without this marker in their history they replay that way.
const LOCAL_EXECUTION_PATCH = 'onceflow-local-execution';

type Activities = Record<string, (...args: unknown[]) => Promise<unknown>>;

/** Calls activities by name in either execution mode, with a summary shown in the Web UI. */
export class ActivityCaller {
  private readonly regular: ActivityInterfaceFor<Activities>;
  private readonly local: LocalActivityInterfaceFor<Activities>;

  constructor(options: CallOptions) {
    this.regular = proxyActivities<Activities>(options.regular);
    this.local = proxyLocalActivities<Activities>(options.local);
  }

  /** Runs `activity` with `args`; `summary` labels the activity task or the local activity marker. */
  call(execution: Execution, activity: string, summary: string, args: unknown[]): Promise<unknown> {
    const local = execution === 'local' && onceflowPatched(LOCAL_EXECUTION_PATCH);
    return local
      ? this.local[activity]!.executeWithOptions({ summary }, args)
      : this.regular[activity]!.executeWithOptions({ summary }, args);
  }
}
