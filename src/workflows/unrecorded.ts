import { proxyLocalActivities, workflowInfo } from '@temporalio/workflow';
import type { EngineActivities } from '../activities/engine.js';
import type { Execution } from '../tools/define.js';
import type { UndoRecord } from '../tools/effects.js';
import type { StepDefinition } from './saga.js';
import { compensatedStep, type ActivityCall } from './tool-step.js';
import { onceflowPatched } from './patches.js';

// Runs recorded before the check replay without it.
const UNRECORDED_PATCH = 'onceflow-unrecorded-effects';

const { unrecordedEffects } = proxyLocalActivities<EngineActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 10 },
});

/**
 * The `unrecorded` option of a saga (`SagaOptions`): asks the ledger for this task's effects that
 * carry an undo record (local steps with a compensation) and are not among `known`, and turns each
 * into a step whose compensation runs as the record says. They exist when a workflow task ran a local
 * step and then failed (its worker died; a cancel arrived as the workflow closed) and the re-execution
 * took another path, so this run's history never recorded the step although the ledger did.
 * `undo(execution)` calls a compensation's activity in that mode.
 */
export function unrecordedSteps(
  undo: (execution: Execution) => ActivityCall,
): (known: string[]) => Promise<StepDefinition[]> {
  return async (known) => {
    if (!onceflowPatched(UNRECORDED_PATCH)) return [];
    const scope = workflowInfo().workflowId;
    const found = await unrecordedEffects.executeWithOptions(
      { summary: `look for effects of ${scope} this run did not record` },
      [{ scope, known }],
    );
    return found.map(({ key, undo: stored }) => {
      const record = stored as UndoRecord;
      return compensatedStep(
        `${record.step} (done by a lost workflow task)`,
        record.irreversible,
        record.compensation,
        { scope, key, fingerprint: '' },
        undo(record.execution),
      );
    });
  };
}
