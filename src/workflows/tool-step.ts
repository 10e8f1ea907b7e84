import { ApplicationFailure, defineQuery, proxyActivities, type ActivityOptions } from '@temporalio/workflow';
import { shortKey } from '../idempotency/keys.js';
import type { BoundCompensation, Tool, ToolContext } from '../tools/define.js';
import type { EffectResult, Intent } from '../tools/effects.js';
import { intentFor, undoIntent } from './intents.js';
import { compensationCall, effectCall } from './options.js';
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
  /** Options of the effect's activity. Default {@link effectCall}. */
  effect?: ActivityOptions;
  /** Options of its compensation. Default {@link compensationCall}. */
  compensation?: ActivityOptions;
  /** The step's name in the saga state. Default the tool's name. */
  name?: string;
}

type Activity = (...args: unknown[]) => Promise<unknown>;
/** Activities called by name, as tool definitions name them. */
export type ActivityProxy = Record<
  string,
  Activity & { executeWithOptions: (o: ActivityOptions, a: unknown[]) => Promise<unknown> }
>;

/**
 * The saga step of a tool call that has a compensation: what undoing means, in the tool's words,
 * and the compensation's activity run under `<step key>:undo`. One definition for agents and sagas.
 */
export function compensatedStep(
  name: string,
  tool: Tool,
  compensation: BoundCompensation,
  intent: Intent,
  undo: ActivityProxy,
): StepDefinition {
  return {
    name,
    key: intent.key,
    undo: compensation.undo,
    irreversible: tool.irreversible,
    personAction: compensation.personAction,
    compensate: () => {
      const undoKeyed = undoIntent(intent, compensation.input, compensation.activity, compensation.recovery);
      return undo[compensation.activity]!.executeWithOptions(
        { summary: `${compensation.undo} · ${shortKey(undoKeyed.key)}` },
        [{ intent: undoKeyed, input: compensation.input }],
      );
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
  const intent = intentFor(tool.effect, call.activityInput);
  const effects: ActivityProxy = proxyActivities(options.effect ?? effectCall);
  const undo: ActivityProxy = proxyActivities(options.compensation ?? compensationCall);
  const run = async () =>
    (await effects[tool.activity!]!.executeWithOptions(
      { summary: `${call.summary} · ${shortKey(intent.key)}` },
      [{ intent, input: call.activityInput }],
    )) as EffectResult<T>;
  const compensation = call.compensation?.(intent.key);
  if (!compensation) return run();
  return saga.step(compensatedStep(options.name ?? tool.name, tool, compensation, intent, undo), run);
}
