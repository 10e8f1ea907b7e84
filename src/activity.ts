/**
 * `onceflow/activity`: what your activities use. {@link effect} is the one door for a side effect:
 * it records the intent key in the ledger, hands it to your downstream call, replays, refuses
 * conflicts and recovers crashed attempts by the tool's declared policy.
 */
export {
  effect,
  undoing,
  type EffectOptions,
  type StepToUndo,
  type TransactionContext,
} from './activities/effect.js';
export { currentLedger, withLedger } from './activities/effect-scope.js';
export {
  BusinessError,
  EffectUndoneError,
  IdempotencyKeyReusedError,
  KeyInUseError,
  OutcomeUnknownError,
} from './idempotency/errors.js';
export { OnceflowError } from './errors.js';
export { Ledger } from './idempotency/ledger.js';
export type { PerformContext, RecoveryPolicy, VerifyResult } from './idempotency/ledger.js';
export type { EffectResult, Intent, Keyed } from './tools/effects.js';
