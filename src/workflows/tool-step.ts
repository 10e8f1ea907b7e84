import {
  ApplicationFailure,
  defineQuery,
  type ActivityOptions,
  type LocalActivityOptions,
} from '@temporalio/workflow';
import { shortKey } from '../idempotency/keys.js';
import type { BoundCompensation, Execution, Tool, ToolContext } from '../tools/define.js';
import type { EffectResult, Intent, IntentApproval } from '../tools/effects.js';
import { intentFor, undoIntent } from './intents.js';
import { ActivityCaller, DEFAULT_EXECUTION } from './activity-call.js';
import { compensationCall, effectCall, localCompensationCall, localEffectCall } from './options.js';
import type { Saga, StepDefinition } from './saga.js';

/** One executed step of a hand-written saga, as its `steps` query reports it. */
export interface StepRecord {
  step: string;
  key: string;
  outcome: EffectResult<unknown>['outcome'];
}

/**
 * The steps a hand-written saga has run, with keys and whether the ledger executed or replayed them.
 * Answer it from your workflow (`setHandler(stepsQuery, () => records)`); the API's task view reads it.
 */
export const stepsQuery = defineQuery<StepRecord[]>('steps');

/** Options of {@link toolStep}. */
export interface ToolStepOptions {
  /**
   * Where the effect and its compensation run: this step's choice wins over the tool's `execution`,
   * which wins over the default: `DEFAULT_EXECUTION` (`local`) in a saga that reconciles with the
   * ledger (`runSaga`'s), else `regular`.
   */
  execution?: Execution;
  /** Options of the effect's activity when regular. Default {@link effectCall}. */
  effect?: ActivityOptions;
  /** Options of the effect's local activity. Default {@link localEffectCall}. */
  localEffect?: LocalActivityOptions;
  /** Options of its compensation when regular. Default {@link compensationCall}. */
  compensation?: ActivityOptions;
  /** Options of its compensation when local. Default {@link localCompensationCall}. */
  localCompensation?: LocalActivityOptions;
  /** The step's name in the saga state. Default the tool's name. */
  name?: string;
  /**
   * What the tool's `approval` rule reads. Without it the rule is not evaluated: a hand-written saga
   * opts in to approvals by passing its policy (and `approve`).
   */
  policy?: unknown;
  /**
   * Asks a person about this one effect (its key and terms) and resolves with the decision; `runSaga`
   * provides it (the `approve`/`deny` updates). Required when the rule asks for approval.
   */
  approve?: (request: ApprovalRequest) => Promise<{ approved: boolean; note: string; by?: string }>;
}

/** An effect of a saga step waiting for a person: which tool, why, and the intent it would perform. */
export interface ApprovalRequest {
  step: string;
  tool: string;
  summary: string;
  reason: string;
  intent: Intent;
}

/** Runs a tool's activity (or its compensation's) by name, in the mode the tool resolves to. */
export type ActivityCall = (activity: string, summary: string, args: unknown[]) => Promise<unknown>;

/**
 * The saga step of a tool call that has a compensation: what undoing means, in the tool's words,
 * and the compensation's activity run under `<step key>:undo`. One definition for agents and sagas.
 */
export function compensatedStep(
  name: string,
  irreversible: boolean,
  compensation: BoundCompensation,
  intent: Intent,
  undo: ActivityCall,
): StepDefinition {
  return {
    name,
    key: intent.key,
    undo: compensation.undo,
    irreversible,
    personAction: compensation.personAction,
    compensate: () => {
      const undoKeyed = undoIntent(intent, compensation.input, compensation.activity, compensation.recovery);
      return undo(compensation.activity, `${compensation.undo} · ${shortKey(undoKeyed.key)}`, [
        { intent: undoKeyed, input: compensation.input },
      ]);
    },
  };
}

const context: ToolContext = {
  keyOf: (tool, activityInput) => (tool.effect ? intentFor(tool.effect, activityInput).key : ''),
};

/**
 * Runs an `effect` tool as one step of a hand-written saga, from the same definition an agent uses:
 * validates `input` with the tool's schema (an invalid input is a non-retryable `TOOL_INPUT_INVALID`
 * failure: a bug in the workflow, not a retry), derives the intent key, registers the tool's
 * compensation with `saga` before the effect runs (its outcome may be unknown), and runs the tool's
 * activity with the key. Retry, crash and conflict semantics are those of `effect()` on the activity
 * side; the compensation runs, in reverse with the saga's other steps, under `<key>:undo`.
 *
 * With `options.policy`, the tool's approval rule is evaluated first: a call it flags waits for
 * `options.approve` (the effect's activity records the approval in the ledger before the effect); a
 * denial fails the step non-retryably (`APPROVAL_DENIED`) and the saga undoes what was done.
 */
export async function toolStep<T>(
  saga: Saga,
  tool: Tool,
  input: unknown,
  options: ToolStepOptions = {},
): Promise<EffectResult<T>> {
  const prepared = tool.prepare(input, context);
  if ('issues' in prepared)
    throw ApplicationFailure.nonRetryable(`${tool.name}: ${prepared.issues}`, 'TOOL_INPUT_INVALID');
  const { call } = prepared;
  if (tool.kind !== 'effect' || !tool.effect || !tool.activity)
    throw ApplicationFailure.nonRetryable(`${tool.name} is not an effect tool`, 'TOOL_INPUT_INVALID');
  let intent = intentFor(tool.effect, call.activityInput);
  const stepName = options.name ?? tool.name;
  const reason = options.policy === undefined ? undefined : call.approvalReason(options.policy);
  if (reason) {
    if (!options.approve)
      throw ApplicationFailure.nonRetryable(
        `${tool.name} needs approval (${reason}) and this workflow has no way to ask: run it with runSaga`,
        'APPROVAL_REQUIRED',
      );
    const decision = await options.approve({
      step: stepName,
      tool: tool.name,
      summary: call.summary,
      reason,
      intent,
    });
    if (!decision.approved)
      throw ApplicationFailure.nonRetryable(
        `${call.summary}: not approved (${decision.note})`,
        'APPROVAL_DENIED',
      );
    const approval: IntentApproval = {
      reason,
      note: decision.note,
      ...(decision.by ? { by: decision.by } : {}),
      at: new Date().toISOString(), // workflow time: deterministic
    };
    intent = { ...intent, approval };
  }
  // Local steps are safe only in a saga that reconciles with the ledger (runSaga's does).
  const execution = options.execution ?? tool.execution ?? (saga.reconciles ? DEFAULT_EXECUTION : 'regular');
  const effects = new ActivityCaller({
    regular: options.effect ?? effectCall,
    local: options.localEffect ?? localEffectCall,
  });
  const undo = new ActivityCaller({
    regular: options.compensation ?? compensationCall,
    local: options.localCompensation ?? localCompensationCall,
  });
  const run = async () =>
    (await effects.call(execution, tool.activity!, `${call.summary} · ${shortKey(intent.key)}`, [
      { intent, input: call.request ?? call.activityInput },
    ])) as EffectResult<T>;
  const compensation = call.compensation?.(intent.key);
  if (!compensation) return run();
  // A local step's result is in history only once its workflow task completes: the ledger keeps how
  // to undo it, for the saga to find should that task fail and this run never learn of the step.
  if (execution === 'local')
    intent = {
      ...intent,
      undo: { step: stepName, irreversible: tool.irreversible, compensation, execution },
    };
  const undoCall: ActivityCall = (activity, summary, args) => undo.call(execution, activity, summary, args);
  return saga.step(compensatedStep(stepName, tool.irreversible, compensation, intent, undoCall), run);
}
