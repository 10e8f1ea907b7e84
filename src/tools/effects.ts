/**
 * How an effect is keyed, and what workflows hand their effect activities. Free text (email bodies,
 * notes) is in neither identity nor stable fields, so a reworded retry is the same action. Pure data:
 * workflows and activities both import it.
 */
import type { BoundCompensation, Execution } from './define.js';
import type { RecoveryPolicy } from '../idempotency/ledger-rows.js';

/** How one side effect is keyed and recovered. */
export interface EffectSpec {
  /** Tool / operation name; part of the key. */
  tool: string;
  /** Fields naming *which* action this is (which order, which recipient): they make the key. */
  identityFields: readonly string[];
  /** Terms of the action that must not change under the same key (amount, currency): fingerprint only. */
  stableFields: readonly string[];
  /** What to do when an earlier attempt crashed with its outcome unknown. */
  recovery: RecoveryPolicy;
  /** True when the effect cannot be undone (an email): its compensation is a correcting action. */
  irreversible?: boolean;
}

/** The key material a workflow derives for one step and hands to its activity. */
export interface Intent {
  scope: string;
  key: string;
  fingerprint: string;
  /** The operation recorded in the ledger (the tool name; `<activity>` for a compensation). */
  operation?: string;
  /** The recovery policy the tool declares (see `EffectRule.recovery`); absent in inputs from before 0.2. */
  recovery?: RecoveryPolicy;
  /** The person's approval of exactly this key and fingerprint, when the tool needed one. */
  approval?: IntentApproval;
  /**
   * How the saga undoes this effect if its history loses it (local steps with a compensation): stored
   * with the claim in the ledger, read back by the saga before it compensates or completes.
   */
  undo?: UndoRecord;
}

/**
 * A saga step as the ledger keeps it for a local effect: enough to undo the effect from workflow code
 * without the call that made it (a local activity's result is lost with a failed workflow task).
 */
export interface UndoRecord {
  /** The step's name in the saga state. */
  step: string;
  irreversible: boolean;
  compensation: BoundCompensation;
  /** Where the compensation runs. */
  execution: Execution;
}

/** An approval carried to the effect's activity, which records it in the ledger before the effect. */
export interface IntentApproval {
  /** Why approval was needed (the tool's approval rule). */
  reason: string;
  by?: string;
  note?: string;
  /** Workflow time of the decision, ISO 8601. */
  at: string;
}

/** Activity input of a side effect: the derived intent plus the business input. */
export interface Keyed<T> {
  intent: Intent;
  input: T;
}

/** What a side-effecting activity returns: its result and whether the ledger executed or replayed it. */
export interface EffectResult<T> {
  outcome: 'executed' | 'replayed' | 'recovered';
  key: string;
  result: T;
}
