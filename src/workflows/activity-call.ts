import {
  patched,
  proxyActivities,
  proxyLocalActivities,
  type ActivityInterfaceFor,
  type ActivityOptions,
  type LocalActivityInterfaceFor,
  type LocalActivityOptions,
} from '@temporalio/workflow';

import type { Execution } from '../tools/define.js';

/**
 * The default for tools that do not choose: `regular`. Local is faster (four sequential no-op
 * activities take ~2.3x as long as four local ones, `npm run bench -- dispatch`), but not yet safe as a
 * default: a local activity's result is recorded only when its workflow task completes. If that task
 * fails (its worker dies, or a cancel or signal arrives while the workflow closes) the effect stays in
 * the ledger, and a re-execution that takes another path (the cancel is now seen before that step)
 * never registers its compensation: the effect is done once, but not undone with the rest. Until the
 * saga reconciles its steps with the ledger's rows for the task, choose `local` per tool or per saga
 * for effects where that is acceptable.
 */
export const DEFAULT_EXECUTION: Execution = 'regular';

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
    const local = execution === 'local' && patched(LOCAL_EXECUTION_PATCH);
    return local
      ? this.local[activity]!.executeWithOptions({ summary }, args)
      : this.regular[activity]!.executeWithOptions({ summary }, args);
  }
}
