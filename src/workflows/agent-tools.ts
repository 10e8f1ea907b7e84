import { ActivityFailure, ApplicationFailure } from '@temporalio/workflow';
import { shortKey } from '../idempotency/keys.js';
import { carriesToldToModel } from '../idempotency/told-to-model.js';
import type { Execution, PreparedCall, Tool, ToolContext } from '../tools/define.js';
import type { EffectResult, Intent, IntentApproval } from '../tools/effects.js';
import { MAX_TOOL_RESULT_CHARS, truncateText } from '../tools/bounds.js';
import type { ToolResultBlock, ToolUseBlock } from '../tools/messages.js';
import type { CarriedStep, ToolCallRecord, ToolOutcome } from './agent-state.js';
import { intentFor, undoIntent } from './intents.js';
import type { Saga, StepDefinition } from './saga.js';
import { ActivityCaller, type CallOptions } from './activity-call.js';
import { compensatedStep, type ActivityCall } from './tool-step.js';
import { onceflowPatched } from './patches.js';

// Failures from before the marker (release 0.1) carried no flag: those runs told the model every
// terminal failure of a tool (all of its told codes were non-retryable), so they replay that way.
const TOLD_TO_MODEL_MARKER = 'told-to-model-marker';

/** Asks a person to approve exactly this effect; resolves with the decision (timeout = denied). */
export type ApprovalGate = (
  call: ToolUseBlock,
  def: Tool,
  summary: string,
  reason: string,
  intent: Intent,
) => Promise<{ approved: boolean; note: string; by?: string }>;

export interface ToolRunnerOptions {
  /** The agent's tools by name. */
  tools: ReadonlyMap<string, Tool>;
  saga: Saga;
  /** What the tools' approval rules read. */
  policy: unknown;
  /** Where tools that do not choose run their activities. */
  execution: Execution;
  effectOptions: CallOptions;
  compensationOptions: CallOptions;
  readOptions: CallOptions;
  approve: ApprovalGate;
  now: () => number;
}

interface FailureView {
  type: string | undefined;
  message: string;
  details: unknown;
  /** The error's class says the model is told (see `OnceflowError.toldToModel`). */
  toldToModel: boolean;
}

function failureOf(err: unknown): FailureView {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    const marked = carriesToldToModel(cause.details ?? undefined);
    return {
      type: cause.type ?? undefined,
      message: cause.message,
      details: cause.details?.[0] ?? undefined,
      toldToModel: marked || (cause.nonRetryable === true && !onceflowPatched(TOLD_TO_MODEL_MARKER)),
    };
  }
  const message = err instanceof Error ? err.message : String(err);
  return { type: undefined, message, details: undefined, toldToModel: false };
}

/**
 * What the model reads of a refusal: the code and message plus the downstream's own terms (Stripe's
 * `type`, `code`, `decline_code`; the SMTP reply), so it can decide what to do next.
 */
function errorBody({ type, message, details }: FailureView): string {
  const shown = details === undefined || details === null ? {} : { details };
  return JSON.stringify({ error: { code: type, message, ...shown } });
}

/**
 * Executes the tool calls of one model turn: validates each input, runs consecutive read-only calls in
 * parallel and effects one at a time in the model's order, registers each new effect with a
 * compensation as a saga step before running it, and turns every tool-level problem into an
 * `is_error` result.
 */
export class ToolRunner {
  readonly records: ToolCallRecord[] = [];
  readonly steps: CarriedStep[] = [];
  duplicatesPrevented = 0;
  aborted: string | undefined;
  private readonly effects: ActivityCaller;
  private readonly undo: ActivityCaller;
  private readonly reads: ActivityCaller;
  private readonly sagaKeys = new Set<string>();
  /** Approvals given in this task (carried across continue-as-new), by `<key> <fingerprint>`. */
  private readonly approvals = new Map<string, IntentApproval>();
  private readonly context: ToolContext = {
    keyOf: (tool, activityInput) => (tool.effect ? intentFor(tool.effect, activityInput).key : ''),
  };

  constructor(private readonly opts: ToolRunnerOptions) {
    this.effects = new ActivityCaller(opts.effectOptions);
    this.undo = new ActivityCaller(opts.compensationOptions);
    this.reads = new ActivityCaller(opts.readOptions);
  }

  /** Restores what an earlier run did (continue-as-new) so its steps are still compensated. */
  restore(
    records: ToolCallRecord[],
    steps: CarriedStep[],
    duplicatesPrevented: number,
    approvals: readonly (readonly [string, IntentApproval])[] = [],
  ): void {
    this.records.push(...records);
    for (const [bound, approval] of approvals) this.approvals.set(bound, approval);
    this.duplicatesPrevented = duplicatesPrevented;
    for (const step of steps) {
      const def = this.opts.tools.get(step.tool);
      const prepared = def?.prepare(step.raw ?? step.input, this.context);
      if (!def || !prepared || !('call' in prepared)) continue;
      const registered = this.stepFor(def, prepared.call, step);
      if (registered) this.opts.saga.adopt(registered);
    }
  }

  /** The approvals given so far, for the next run of a continue-as-new. */
  approvalsGiven(): [string, IntentApproval][] {
    return [...this.approvals];
  }

  /** Runs the turn's tool calls; returns one tool_result per tool_use, in the model's order. */
  async run(turn: number, calls: ToolUseBlock[]): Promise<ToolResultBlock[]> {
    const results: ToolResultBlock[] = new Array<ToolResultBlock>(calls.length);
    let batch: Promise<void>[] = [];
    for (const [index, call] of calls.entries()) {
      const def = this.opts.tools.get(call.name);
      const runOne = async () => {
        results[index] = await this.runOne(turn, call, def);
      };
      if (def?.kind === 'read_only') {
        batch.push(runOne());
        continue;
      }
      await Promise.all(batch);
      batch = [];
      await runOne();
      if (this.aborted !== undefined) break;
    }
    await Promise.all(batch);
    // Calls after an abort still need an answer: the API requires a result for every tool_use.
    return calls.map(
      (call, i) =>
        results[i] ?? {
          type: 'tool_result',
          tool_use_id: call.id,
          content: 'Not run: the task was aborted.',
          is_error: true,
        },
    );
  }

  private record(
    turn: number,
    call: ToolUseBlock,
    started: number,
    outcome: ToolOutcome,
    extra: Partial<ToolCallRecord> = {},
  ) {
    this.records.push({
      turn,
      toolUseId: call.id,
      name: call.name,
      outcome,
      latencyMs: this.opts.now() - started,
      ...extra,
    });
  }

  private async runOne(turn: number, call: ToolUseBlock, def: Tool | undefined): Promise<ToolResultBlock> {
    const started = this.opts.now();
    const reply = (content: string, isError = false): ToolResultBlock => ({
      type: 'tool_result',
      tool_use_id: call.id,
      content: truncateText(content, MAX_TOOL_RESULT_CHARS),
      ...(isError ? { is_error: true } : {}),
    });
    if (!def) {
      this.record(turn, call, started, 'invalid', { error: 'unknown tool' });
      const names = [...this.opts.tools.keys()].join(', ');
      return reply(`Unknown tool "${call.name}". Available tools: ${names}.`, true);
    }
    const prepared = def.prepare(call.input, this.context);
    if ('issues' in prepared) {
      this.record(turn, call, started, 'invalid', { error: prepared.issues });
      return reply(
        `Invalid input for ${def.name}: ${prepared.issues}. Correct the input and call the tool again.`,
        true,
      );
    }
    const prepCall = prepared.call;

    if (def.kind === 'control') {
      this.aborted = prepCall.abort ?? 'aborted';
      this.record(turn, call, started, 'executed');
      return reply('The task is being aborted; everything done so far will be undone.');
    }

    const activity = def.activity ?? '';
    if (def.kind === 'read_only') {
      try {
        const result = await this.reads.call(this.executionOf(def), activity, prepCall.summary, [
          prepCall.request ?? prepCall.activityInput,
        ]);
        this.record(turn, call, started, 'read');
        return reply(JSON.stringify(result ?? null));
      } catch (err) {
        const { message, type } = failureOf(err);
        this.record(turn, call, started, 'error', { error: message, ...(type ? { code: type } : {}) });
        return reply(`${def.name} failed: ${message}`, true);
      }
    }

    let intent = def.undoes
      ? undoIntent(intentFor(def.undoes, prepCall.activityInput), prepCall.activityInput, activity)
      : intentFor(def.effect!, prepCall.activityInput);
    const approvalReason = prepCall.approvalReason(this.opts.policy);
    if (approvalReason) {
      // An approval covers one effect: this key with these terms. The same call re-decided later
      // keeps it; other terms under the same key ask again.
      const bound = `${intent.key} ${intent.fingerprint}`;
      let approval = this.approvals.get(bound);
      if (!approval) {
        const decision = await this.opts.approve(call, def, prepCall.summary, approvalReason, intent);
        if (!decision.approved) {
          this.record(turn, call, started, 'denied', { key: intent.key, error: decision.note });
          return reply(
            `Not done: a person did not approve this ${def.name} (${decision.note}). Do not retry it.`,
            true,
          );
        }
        approval = {
          reason: approvalReason,
          note: decision.note,
          ...(decision.by ? { by: decision.by } : {}),
          at: new Date(this.opts.now()).toISOString(),
        };
        this.approvals.set(bound, approval);
      }
      intent = { ...intent, approval };
    }

    const execution = this.executionOf(def);
    const compensation = prepCall.compensation?.(intent.key);
    // A local step's result is in history only once its workflow task completes: the ledger keeps how
    // to undo it, for the saga to find should that task fail and this run never learn of the call.
    if (execution === 'local' && compensation)
      intent = {
        ...intent,
        undo: {
          step: stepName(def, prepCall),
          irreversible: def.irreversible,
          compensation,
          execution,
        },
      };
    try {
      const done = (await this.registeredStep(def, prepCall, call, intent, () =>
        this.effects.call(execution, activity, `${prepCall.summary} · ${shortKey(intent.key)}`, [
          { intent, input: prepCall.request ?? prepCall.activityInput },
        ]),
      )) as EffectResult<unknown>;
      if (done.outcome === 'replayed') this.duplicatesPrevented++;
      this.record(turn, call, started, done.outcome, { key: intent.key });
      const body = JSON.stringify(done.result ?? null);
      return reply(
        done.outcome === 'replayed'
          ? `Already done earlier (same ${def.name} for the same reference); nothing was done again. Original result: ${body}`
          : body,
      );
    } catch (err) {
      const failure = failureOf(err);
      if (!failure.toldToModel || failure.type === undefined) {
        this.record(turn, call, started, 'error', {
          key: intent.key,
          error: failure.message,
          ...(failure.type ? { code: failure.type } : {}),
        });
        throw err;
      }
      const outcome = outcomeOf(failure.type);
      this.record(turn, call, started, outcome, {
        key: intent.key,
        error: failure.message,
        code: failure.type,
      });
      return reply(toldText(def.name, outcome, errorBody(failure)), true);
    }
  }

  /** Registers the step with the saga (once per key) before running it. */
  private async registeredStep(
    def: Tool,
    prepared: PreparedCall,
    call: ToolUseBlock,
    intent: Intent,
    run: () => Promise<unknown>,
  ): Promise<unknown> {
    if (!prepared.compensation || this.sagaKeys.has(intent.key)) return run();
    const carried: CarriedStep = {
      tool: def.name,
      input: prepared.input as Record<string, unknown>,
      raw: call.input,
      intent,
    };
    const step = this.stepFor(def, prepared, carried);
    return step ? this.opts.saga.step(step, run) : run();
  }

  /** The saga step of a call with a compensation, recorded once per key; undefined otherwise. */
  private stepFor(def: Tool, prepared: PreparedCall, carried: CarriedStep): StepDefinition | undefined {
    const compensation = prepared.compensation?.(carried.intent.key);
    if (!compensation || this.sagaKeys.has(carried.intent.key)) return undefined;
    this.sagaKeys.add(carried.intent.key);
    this.steps.push(carried);
    const undo: ActivityCall = (activity, summary, args) =>
      this.undo.call(this.executionOf(def), activity, summary, args);
    return compensatedStep(stepName(def, prepared), def.irreversible, compensation, carried.intent, undo);
  }

  /** The tool's own choice, else the agent's. */
  private executionOf(def: Tool): Execution {
    return def.execution ?? this.opts.execution;
  }
}

/** A call's step name in the saga state. */
function stepName(def: Tool, prepared: PreparedCall): string {
  return `${def.name} · ${prepared.summary}`;
}

/** The record outcome of an error the model is told. */
function outcomeOf(type: string): ToolOutcome {
  if (type === 'IDEMPOTENCY_KEY_REUSED') return 'conflict';
  if (type === 'EFFECT_UNDONE') return 'undone';
  return 'error';
}

/** What the model reads for a told error, by outcome. */
function toldText(tool: string, outcome: ToolOutcome, body: string): string {
  if (outcome === 'conflict')
    return `Refused: ${tool} for this reference was already done with different terms; it will not be done again with new terms. ${body}`;
  if (outcome === 'undone')
    return (
      `Not done: ${tool} for this reference was done earlier and then undone (compensated), so it is not in effect now. ` +
      `It will not be done again under the same reference; to do it again, use a new business reference. ${body}`
    );
  return `${tool} failed. ${body}`;
}
