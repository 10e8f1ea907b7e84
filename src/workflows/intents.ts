import { workflowInfo } from '@temporalio/workflow';
import { compensationKey, fingerprint } from '../idempotency/keys.js';
import type { RecoveryPolicy } from '../idempotency/ledger-rows.js';
import type { EffectSpec, Intent } from '../tools/effects.js';
import { effectIntent } from '../tools/intent.js';

/**
 * The intent of one side effect of this task. Scope is the workflow ID, the business task ID: the
 * same across activity retries, worker crashes, resets and continue-as-new. The intent carries the
 * effect's declared operation name and recovery policy, so the activity never restates them.
 */
export function intentFor(effect: EffectSpec, input: object): Intent {
  return effectIntent(workflowInfo().workflowId, effect, input);
}

/**
 * The intent of undoing a step: its key derives from the step's key, so undoing twice is undoing
 * once. `operation` names the compensation in the ledger (its activity); `recovery` is the
 * compensation's declared policy, default `resume` (a compensation must be safe to perform again).
 */
export function undoIntent(
  step: Intent,
  undoInput: object,
  operation?: string,
  recovery: RecoveryPolicy = 'resume',
): Intent {
  return {
    scope: step.scope,
    key: compensationKey(step.key),
    fingerprint: fingerprint(undoInput),
    ...(operation ? { operation } : {}),
    recovery,
  };
}
