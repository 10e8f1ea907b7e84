import { compensationKey, deriveIntent } from '../idempotency/keys.js';
import type { Tool } from './define.js';
import type { EffectSpec, Intent } from './effects.js';

/** The intent of one call of an effect in the task `scope`: pure, the same wherever it is derived. */
export function effectIntent(scope: string, effect: EffectSpec, input: object): Intent {
  const { key, fingerprint } = deriveIntent({
    scope,
    tool: effect.tool,
    input: input as Record<string, unknown>,
    identityFields: effect.identityFields,
    stableFields: effect.stableFields,
  });
  return { scope, key, fingerprint, operation: effect.tool, recovery: effect.recovery };
}

/**
 * The intent an `effect` tool's call has in the task `scope` (its workflow ID), exactly as the agent
 * loop and `runSaga` derive it: the key the activity sends downstream and the ledger records, and the
 * fingerprint of its terms. For a backend that looks an effect up in the ledger or downstream, and
 * for tests. `activityInput` is what the activity receives (after the tool's `toActivityInput`).
 * Throws `TypeError` for a tool that is not an effect.
 */
export function intentOf(tool: Tool, scope: string, activityInput: object): Intent {
  if (!tool.effect) throw new TypeError(`tool ${tool.name} is not an effect: it has no intent key`);
  return effectIntent(scope, tool.effect, activityInput);
}

/** The key of undoing the effect recorded under `key`: what its compensation sends downstream. */
export function undoKeyOf(key: string): string {
  return compensationKey(key);
}
