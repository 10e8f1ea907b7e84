import { workflowInfo } from '@temporalio/workflow';
import { compensationKey, deriveIntent, fingerprint } from '../idempotency/keys.js';
import type { EffectSpec, Intent } from '../tools/effects.js';

/**
 * The intent of one side effect of this task. Scope is the workflow ID, the business task ID: the
 * same across activity retries, worker crashes, resets and continue-as-new.
 */
export function intentFor(effect: EffectSpec, input: object): Intent {
  const scope = workflowInfo().workflowId;
  const { key, fingerprint: fp } = deriveIntent({
    scope,
    tool: effect.tool,
    input: input as Record<string, unknown>,
    identityFields: effect.identityFields,
    stableFields: effect.stableFields,
  });
  return { scope, key, fingerprint: fp };
}

/** The intent of undoing a step: its key derives from the step's key, so undoing twice is undoing once. */
export function undoIntent(step: Intent, undoInput: object): Intent {
  return { scope: step.scope, key: compensationKey(step.key), fingerprint: fingerprint(undoInput) };
}
