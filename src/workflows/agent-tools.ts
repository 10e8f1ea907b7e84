import {
  ActivityFailure,
  ApplicationFailure,
  proxyActivities,
  type ActivityOptions,
} from '@temporalio/workflow';
import { EffectUndoneError } from '../idempotency/errors.js';
import { shortKey } from '../idempotency/keys.js';
import { formatIssues, TOOLS, type ToolDefinition, type ToolPolicy } from '../tools/catalogue.js';
import type { EffectResult, Intent } from '../tools/effects.js';
import { MAX_TOOL_RESULT_CHARS, truncateText } from '../tools/bounds.js';
import type { ToolResultBlock, ToolUseBlock } from '../tools/messages.js';
import type { CarriedStep, ToolCallRecord, ToolOutcome } from './agent-state.js';
import { intentFor, undoIntent } from './intents.js';
import type { Saga } from './saga.js';

/** Failure types that are the tool's answer, told to the model, rather than a failure of the task. */
const TOLD_TO_MODEL = new Set([
  'CARD_DECLINED',
  'PAYMENT_REJECTED',
  'EMAIL_REJECTED',
  'ORDER_EXISTS',
  'IDEMPOTENCY_KEY_REUSED',
  'OUTCOME_UNKNOWN',
  EffectUndoneError.CODE,
]);

type Call = (...args: unknown[]) => Promise<unknown>;
type Proxy = Record<
  string,
  Call & { executeWithOptions: (o: ActivityOptions, a: unknown[]) => Promise<unknown> }
>;

/** Asks a person; resolves with the decision (timeout = denied). */
export type ApprovalGate = (
  call: ToolUseBlock,
  def: ToolDefinition,
  reason: string,
) => Promise<{ approved: boolean; note: string }>;

export interface ToolRunnerOptions {
  saga: Saga;
  policy: ToolPolicy;
  effectOptions: ActivityOptions;
  compensationOptions: ActivityOptions;
  readOptions: ActivityOptions;
  approve: ApprovalGate;
  now: () => number;
}

function failureOf(err: unknown): { type: string | undefined; message: string; details: unknown } {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  if (cause instanceof ApplicationFailure) {
    return { type: cause.type ?? undefined, message: cause.message, details: cause.details?.[0] };
  }
  return { type: undefined, message: err instanceof Error ? err.message : String(err), details: undefined };
}

/**
 * What the model reads of a refusal: the code and message plus the downstream's own terms (Stripe's
 * `type`, `code`, `decline_code`; the SMTP reply), so it can decide what to do next.
 */
function errorBody(type: string, message: string, details: unknown): string {
  return JSON.stringify({ error: { code: type, message, ...(details === undefined ? {} : { details }) } });
}

/**
 * Executes the tool calls of one model turn: validates each input, runs consecutive read-only calls in
 * parallel and side-effecting ones one at a time in the model's order, registers each new side effect
 * with the saga before running it, and turns every tool-level problem into an `is_error` result.
 */
export class ToolRunner {
  readonly records: ToolCallRecord[] = [];
  readonly steps: CarriedStep[] = [];
  duplicatesPrevented = 0;
  aborted: string | undefined;
  private readonly effects: Proxy;
  private readonly undo: Proxy;
  private readonly reads: Proxy;
  private readonly sagaKeys = new Set<string>();

  constructor(private readonly opts: ToolRunnerOptions) {
    this.effects = proxyActivities(opts.effectOptions);
    this.undo = proxyActivities(opts.compensationOptions);
    this.reads = proxyActivities(opts.readOptions);
  }

  /** Restores what an earlier run did (continue-as-new) so its steps are still compensated. */
  restore(records: ToolCallRecord[], steps: CarriedStep[], duplicatesPrevented: number): void {
    this.records.push(...records);
    this.duplicatesPrevented = duplicatesPrevented;
    for (const step of steps) {
      const def = TOOLS[step.tool];
      if (!def) continue;
      this.registerStep(def, step.input, step.intent);
    }
  }

  /** Runs the turn's tool calls; returns one tool_result per tool_use, in the model's order. */
  async run(turn: number, calls: ToolUseBlock[]): Promise<ToolResultBlock[]> {
    const results: ToolResultBlock[] = new Array<ToolResultBlock>(calls.length);
    let batch: Promise<void>[] = [];
    for (const [index, call] of calls.entries()) {
      const def = TOOLS[call.name];
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

  private async runOne(
    turn: number,
    call: ToolUseBlock,
    def: ToolDefinition | undefined,
  ): Promise<ToolResultBlock> {
    const started = this.opts.now();
    const reply = (content: string, isError = false): ToolResultBlock => ({
      type: 'tool_result',
      tool_use_id: call.id,
      content: truncateText(content, MAX_TOOL_RESULT_CHARS),
      ...(isError ? { is_error: true } : {}),
    });
    if (!def) {
      this.record(turn, call, started, 'invalid', { error: 'unknown tool' });
      return reply(`Unknown tool "${call.name}". Available tools: ${Object.keys(TOOLS).join(', ')}.`, true);
    }
    const parsed = def.schema.safeParse(call.input);
    if (!parsed.success) {
      const issues = formatIssues(parsed.error);
      this.record(turn, call, started, 'invalid', { error: issues });
      return reply(
        `Invalid input for ${def.name}: ${issues}. Correct the input and call the tool again.`,
        true,
      );
    }
    const input = parsed.data;

    if (def.kind === 'control') {
      this.aborted = (input as { reason: string }).reason;
      this.record(turn, call, started, 'executed');
      return reply('The task is being aborted; everything done so far will be undone.');
    }

    const activityInput =
      def.toActivityInput?.(input, { keyOf: (effect, i) => intentFor(effect, i).key }) ?? input;
    const activity = def.activity ?? '';
    const summary = { summary: def.summarize(input) };

    if (def.kind === 'read_only') {
      try {
        const result = await this.reads[activity]!.executeWithOptions(summary, [activityInput]);
        this.record(turn, call, started, 'read');
        return reply(JSON.stringify(result ?? null));
      } catch (err) {
        const { message } = failureOf(err);
        this.record(turn, call, started, 'error', { error: message });
        return reply(`${def.name} failed: ${message}`, true);
      }
    }

    const intent = def.undoes
      ? undoIntent(intentFor(def.undoes, activityInput), activityInput)
      : intentFor(def.effect!, activityInput);
    const approvalReason = def.approval?.(input, this.opts.policy);
    if (approvalReason) {
      const decision = await this.opts.approve(call, def, approvalReason);
      if (!decision.approved) {
        this.record(turn, call, started, 'denied', { key: intent.key, error: decision.note });
        return reply(
          `Not done: a person did not approve this ${def.name} (${decision.note}). Do not retry it.`,
          true,
        );
      }
    }

    try {
      const done = (await this.registeredStep(def, input, intent, () =>
        this.effects[activity]!.executeWithOptions(
          { summary: `${summary.summary} · ${shortKey(intent.key)}` },
          [{ intent, input: activityInput }],
        ),
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
      const { type, message, details } = failureOf(err);
      if (type !== undefined && TOLD_TO_MODEL.has(type)) {
        const outcome: ToolOutcome =
          type === 'IDEMPOTENCY_KEY_REUSED'
            ? 'conflict'
            : type === EffectUndoneError.CODE
              ? 'undone'
              : 'error';
        this.record(turn, call, started, outcome, { key: intent.key, error: message });
        const body = errorBody(type, message, details);
        return reply(
          outcome === 'conflict'
            ? `Refused: ${def.name} for this reference was already done with different terms; it will not be done again with new terms. ${body}`
            : outcome === 'undone'
              ? `Not done: ${def.name} for this reference was done earlier and then undone (compensated), so it is not in effect now. ` +
                `It will not be done again under the same reference; to do it again, use a new business reference. ${body}`
              : `${def.name} failed. ${body}`,
          true,
        );
      }
      this.record(turn, call, started, 'error', { key: intent.key, error: message });
      throw err;
    }
  }

  /** Registers the step with the saga (once per key) before running it. */
  private async registeredStep(
    def: ToolDefinition,
    input: Record<string, unknown>,
    intent: Intent,
    run: () => Promise<unknown>,
  ): Promise<unknown> {
    if (!def.compensation || this.sagaKeys.has(intent.key)) return run();
    const step = this.registerStepRunning(def, input, intent);
    return this.opts.saga.step(step.def, run);
  }

  private stepDefinition(def: ToolDefinition, input: Record<string, unknown>, intent: Intent) {
    const compensation = def.compensation!;
    return {
      name: typeof input.order_id === 'string' ? `${def.name} ${input.order_id}` : def.name,
      key: intent.key,
      undo: compensation.undo,
      irreversible: def.irreversible ?? false,
      personAction: compensation.personAction(input),
      compensate: () => {
        const undoInput = compensation.input(input, intent.key);
        const undoKeyed = undoIntent(intent, undoInput);
        return this.undo[compensation.activity]!.executeWithOptions(
          { summary: `${compensation.undo} · ${shortKey(undoKeyed.key)}` },
          [{ intent: undoKeyed, input: undoInput }],
        );
      },
    };
  }

  private registerStepRunning(def: ToolDefinition, input: Record<string, unknown>, intent: Intent) {
    this.sagaKeys.add(intent.key);
    this.steps.push({ tool: def.name, input, intent });
    return { def: this.stepDefinition(def, input, intent) };
  }

  private registerStep(def: ToolDefinition, input: Record<string, unknown>, intent: Intent): void {
    if (!def.compensation || this.sagaKeys.has(intent.key)) return;
    this.sagaKeys.add(intent.key);
    this.steps.push({ tool: def.name, input, intent });
    this.opts.saga.adopt(this.stepDefinition(def, input, intent));
  }
}
