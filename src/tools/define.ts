/**
 * The tool-definition API: one definition per tool gives the model its JSON Schema, validates what
 * the model sends, derives the intent key, names the activity that performs it, how to undo it and
 * whether a person must approve it. Pure data and zod: workflow-safe.
 */
import { z } from 'zod';
import type { RecoveryPolicy } from '../idempotency/ledger-rows.js';
import type { EffectSpec } from './effects.js';
import type { ToolSchema } from './messages.js';

/**
 * `read_only`: runs as a read activity, in parallel with the turn's other reads, never keyed.
 * `effect`: keyed by intent, recorded in the ledger, a saga step when it declares a compensation.
 * `control`: handled by the agent loop itself (see {@link abortTask}).
 */
export type ToolKind = 'read_only' | 'effect' | 'control';

/**
 * Where a tool's activity (and its compensation's) runs. `local`: a Temporal local activity, inside
 * the workflow task of the worker that decided it: no server dispatch, the result recorded as a marker
 * in history, and a re-run when the workflow task fails or the worker dies, which the ledger answers
 * with a replay or a recovery under the same key (a step the workflow's history lost with a failed
 * workflow task is found in the ledger and undone: see `DEFAULT_EXECUTION`). `regular`: an activity
 * task dispatched by the server to any worker, with heartbeats.
 */
export type Execution = 'local' | 'regular';

/** Helpers an input mapping may use. */
export interface ToolContext {
  /** The intent key `tool` would have for this activity input in this task. */
  keyOf: (tool: Tool, activityInput: object) => string;
}

/** How an effect is keyed and recovered. Field names are those of the activity input. */
export interface EffectRule<A> {
  /** Fields naming *which* action this is (which order, which recipient): they make the intent key. */
  identity: readonly (keyof A & string)[];
  /** Other terms that must not change under the same key (amount, currency): fingerprint only. Default none. */
  stable?: readonly (keyof A & string)[];
  /**
   * When an earlier attempt crashed with its outcome unknown: `resume` (default) performs again with
   * the same key, for downstreams that deduplicate on it; `verify` asks the downstream through the
   * activity's `verify`; `escalate` stops and marks the key for a person.
   */
  recovery?: RecoveryPolicy;
  /** The effect cannot be undone (an email): its compensation is a correcting action. Default false. */
  irreversible?: boolean;
}

/** How a step is undone: another activity, run with the key `<step key>:undo`. */
export interface CompensationRule<I> {
  /** The activity that undoes (or, for an irreversible effect, corrects) the step. */
  activity: string;
  /** What undoing means, in words shown in the saga state ("refund the charge"). */
  undo: string;
  /** The compensation's activity input; `stepKey` is the key of the step it undoes. */
  input: (input: I, stepKey: string) => object;
  /** What a person should do when the compensation keeps failing. */
  personAction: (input: I) => string;
  /**
   * After a crashed compensation attempt: `resume` (default) performs it again with the same key;
   * `verify` asks the downstream first (a correction email); `escalate` marks it for a person.
   */
  recovery?: RecoveryPolicy;
}

/** Everything one tool is. `S` is its zod schema, `A` its activity input, `P` the approval policy it reads. */
export interface ToolSpec<S extends z.ZodType, A extends object, P> {
  /** Tool name the model calls; part of every intent key, so renaming a tool changes its keys. */
  name: string;
  description: string;
  /** Validates the model's input; sent to the model as JSON Schema (input side). */
  input: S;
  kind: ToolKind;
  /** The activity that performs it (`read_only` and `effect` tools). */
  activity?: string;
  /** Maps the validated input to the activity input. Default: the validated input itself. */
  toActivityInput?: (input: z.output<S>, ctx: ToolContext) => A;
  /** `effect` tools: the intent key's fields and the recovery policy. */
  effect?: EffectRule<A>;
  /**
   * Set on a tool that is the inverse of another effect (a refund of a charge): its intent is that
   * effect's compensation intent, so the model's refund and the saga's refund are one intent, done
   * once, and the ledger knows the undone effect is no longer in effect.
   */
  undoes?: Tool;
  /** How to undo it. Absent: nothing to undo (reads, or effects you accept to leave in place). */
  compensation?: CompensationRule<z.output<S>>;
  /** Why a person must approve this call, or undefined when no approval is needed. */
  approval?: (input: z.output<S>, policy: P) => string | undefined;
  /** One line for activity summaries, the Web UI and logs. */
  summary: (input: z.output<S>) => string;
  /** `control` tools: what the loop should do. */
  control?: (input: z.output<S>) => { abort: string };
  /**
   * Where its activity and compensation run. Default: the agent's or saga's `execution`, else
   * `DEFAULT_EXECUTION` (`local`, which says why). Choose `regular` for a call that may outlast the
   * local start-to-close (5 s), or that must heartbeat.
   */
  execution?: Execution;
}

/** A compensation bound to one call's input. */
export interface BoundCompensation {
  activity: string;
  undo: string;
  input: object;
  personAction: string;
  recovery: RecoveryPolicy;
}

/** One validated call, with everything the loop needs bound to its input. */
export interface PreparedCall {
  /** The validated input (zod output). */
  input: unknown;
  /** What the intent key and fingerprint are derived from (the identity and stable fields' values). */
  activityInput: object;
  /**
   * What the activity receives as its input when it is not `activityInput` itself (an MCP tool sends
   * the server, tool name and digest along with the arguments the key is derived from).
   */
  request?: object;
  summary: string;
  /** Why a person must approve it, under the agent's policy. */
  approvalReason: (policy: unknown) => string | undefined;
  /** The compensation for the step with this key; undefined when nothing undoes it. */
  compensation: ((stepKey: string) => BoundCompensation) | undefined;
  /** `control` tools: the abort reason. */
  abort: string | undefined;
}

/** A defined tool, as the agent loop and sagas use it. Built by {@link defineTool}. */
export interface Tool {
  readonly name: string;
  readonly description: string;
  readonly kind: ToolKind;
  readonly activity: string | undefined;
  /** The resolved key rule (`effect` tools). */
  readonly effect: EffectSpec | undefined;
  /** The key rule of the effect this tool undoes. */
  readonly undoes: EffectSpec | undefined;
  readonly irreversible: boolean;
  /** Where its activity runs, when the tool chose; undefined follows the agent's or saga's default. */
  readonly execution: Execution | undefined;
  /** The definition sent to the model. */
  schema(): ToolSchema;
  /** Validates the model's input and binds the definition to it; `issues` says what is wrong. */
  prepare(raw: unknown, ctx: ToolContext): { call: PreparedCall } | { issues: string };
}

/** A zod error as one line the model can act on: `amount: expected an integer; to: invalid email`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
}

/**
 * Defines a tool, typed end to end: `toActivityInput`, `effect`, `compensation`, `approval` and
 * `summary` all receive the schema's output type. Throws a `TypeError` at definition time for a
 * definition that cannot work (an effect without identity fields, a compensation on a read).
 */
export function defineTool<S extends z.ZodType, A extends object = z.output<S> & object, P = unknown>(
  spec: ToolSpec<S, A, P>,
): Tool {
  validateSpec(spec);
  const toActivityInput = (input: z.output<S>, ctx: ToolContext): object =>
    spec.toActivityInput ? spec.toActivityInput(input, ctx) : (input as object);
  const effect: EffectSpec | undefined = spec.effect && {
    tool: spec.name,
    identityFields: spec.effect.identity,
    stableFields: spec.effect.stable ?? [],
    recovery: spec.effect.recovery ?? 'resume',
    ...(spec.effect.irreversible ? { irreversible: true } : {}),
  };
  // Built on first use: every workflow imports its tools' modules afresh, and most workflows (sagas,
  // replays) never send a tool's schema to a model.
  let jsonSchema: Record<string, unknown> | undefined;
  const inputSchema = () => {
    if (!jsonSchema) {
      const { $schema: _ignored, ...rest } = z.toJSONSchema(spec.input, { io: 'input' }) as Record<
        string,
        unknown
      >;
      jsonSchema = rest;
    }
    return jsonSchema;
  };
  return {
    name: spec.name,
    description: spec.description,
    kind: spec.kind,
    activity: spec.activity,
    effect,
    undoes: spec.undoes?.effect,
    irreversible: spec.effect?.irreversible ?? false,
    execution: spec.execution,
    schema: () => ({ name: spec.name, description: spec.description, input_schema: inputSchema() }),
    prepare(raw, ctx) {
      const parsed = spec.input.safeParse(raw);
      if (!parsed.success) return { issues: formatIssues(parsed.error) };
      const input = parsed.data;
      const compensation = spec.compensation;
      return {
        call: {
          input,
          activityInput: spec.kind === 'control' ? {} : toActivityInput(input, ctx),
          summary: spec.summary(input),
          approvalReason: (policy) => spec.approval?.(input, policy as P),
          compensation:
            compensation &&
            ((stepKey) => ({
              activity: compensation.activity,
              undo: compensation.undo,
              input: compensation.input(input, stepKey),
              personAction: compensation.personAction(input),
              recovery: compensation.recovery ?? 'resume',
            })),
          abort: spec.control?.(input).abort,
        },
      };
    },
  };
}

function validateSpec(spec: {
  name: string;
  kind: ToolKind;
  activity?: string | undefined;
  control?: unknown;
  effect?: { identity: readonly string[] } | undefined;
  compensation?: unknown;
  undoes?: Tool | undefined;
}): void {
  const problem = (why: string) => new TypeError(`tool ${spec.name}: ${why}`);
  if (!/^[a-zA-Z0-9_-]{1,64}$/.test(spec.name)) throw problem('name must match ^[a-zA-Z0-9_-]{1,64}$');
  if (spec.kind !== 'control' && !spec.activity) throw problem(`a ${spec.kind} tool needs an activity`);
  if (spec.kind === 'control' && !spec.control) throw problem('a control tool needs control()');
  if (spec.kind === 'effect' && !spec.effect && !spec.undoes)
    throw problem('an effect needs effect.identity (the fields that make its intent key) or undoes');
  if (spec.effect && spec.effect.identity.length === 0)
    throw problem('effect.identity is empty: every call would share one key');
  if (spec.kind !== 'effect' && (spec.effect || spec.compensation || spec.undoes))
    throw problem('only effect tools have keys and compensations');
  if (spec.undoes && !spec.undoes.effect) throw problem(`undoes ${spec.undoes.name}, which is not an effect`);
}

/**
 * The control tool that gives up on the task: everything done so far is undone (refunds,
 * cancellations, corrections), in reverse. Add it to an agent's tools to let the model abort.
 */
export const abortTask: Tool = defineTool({
  name: 'abort_task',
  description:
    'Give up on the task: everything done so far is undone (refunds, cancellations, corrections). Use when the task cannot be completed.',
  input: z.object({ reason: z.string().min(1).max(1000) }),
  kind: 'control',
  control: (i) => ({ abort: i.reason }),
  summary: (i) => `abort: ${i.reason}`,
});
