import { z } from 'zod';
import { InvalidTaskRequestError } from './errors.js';
import { formatIssues, taskKey } from './request.js';

/**
 * One kind of task a backend may start: `POST /tasks` with `{"kind": <kind>, …fields}`, the CLI's
 * `run --kind`, or {@link startTask}. Built by {@link defineTask} or {@link agentTask}; handed to the
 * API, the CLI and `startTask` as a list, the task registry.
 */
export interface TaskKind<S extends z.ZodObject = z.ZodObject> {
  /** The body's `kind`; shown as the task's kind in `GET /tasks/:id`. */
  readonly kind: string;
  /** The workflow type started: the name your workflows file exports it under. */
  readonly workflowType: string;
  /** The body's fields besides `kind` and `taskId`; unknown fields are refused (strict). */
  readonly input: S;
  /** True for an agent (a prompt for the model): the CLI's `run <prompt>` starts these. */
  readonly agent: boolean;
  /** One line for the OpenAPI document. */
  readonly description: string | undefined;
  /** The workflow's arguments for a valid body. */
  args(fields: z.output<S>): unknown[];
  /** The run's static summary in the Web UI, e.g. `order ord_1 for cust_42`. */
  summary(fields: z.output<S>): string | undefined;
  /** The run's static details in the Web UI (markdown). */
  details(fields: z.output<S>): string | undefined;
}

/** What {@link defineTask} takes. */
export interface TaskKindSpec<S extends z.ZodObject> {
  /** The body's `kind`: lower-case letters, digits, `-` and `_`. */
  kind: string;
  /** The workflow: its type name, or the workflow function (its `name` is the type). */
  workflow: string | { readonly name: string };
  /** The body's fields besides `kind` and `taskId`. Made strict: unknown fields are a 400. */
  input: S;
  description?: string;
  /** The workflow's arguments; default `[fields]`. */
  args?: (fields: z.output<S>) => unknown[];
  summary?: (fields: z.output<S>) => string | undefined;
  details?: (fields: z.output<S>) => string | undefined;
}

const KIND = /^[a-z][a-z0-9_-]{0,63}$/;
const RESERVED = new Set(['kind', 'taskId']);

function workflowTypeOf(workflow: string | { readonly name: string }): string {
  const name = typeof workflow === 'string' ? workflow : workflow.name;
  if (!name) throw new TypeError('defineTask: the workflow has no name; pass its type name as a string');
  return name;
}

/**
 * Declares a task kind that starts `workflow` with the body's fields. The body is validated by
 * `input` (made strict) before anything is recorded or started; the fingerprint that guards an
 * idempotency key is taken over the validated body, so two bodies that parse alike are one request.
 * Throws `TypeError` at definition for a bad `kind` or a field named `kind` or `taskId`.
 */
export function defineTask<S extends z.ZodObject>(spec: TaskKindSpec<S>): TaskKind<S> {
  return buildKind(spec, false);
}

function buildKind<S extends z.ZodObject>(spec: TaskKindSpec<S>, agent: boolean): TaskKind<S> {
  if (!KIND.test(spec.kind))
    throw new TypeError(`task kind ${JSON.stringify(spec.kind)}: lower-case letters, digits, - and _`);
  for (const field of Object.keys(spec.input.shape)) {
    if (RESERVED.has(field)) throw new TypeError(`task kind ${spec.kind}: field ${field} is reserved`);
  }
  return {
    kind: spec.kind,
    workflowType: workflowTypeOf(spec.workflow),
    input: spec.input.strict() as S,
    agent,
    description: spec.description,
    args: spec.args ?? ((fields) => [fields]),
    summary: spec.summary ?? (() => undefined),
    details: spec.details ?? (() => undefined),
  };
}

const reference = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'letters, digits, _ . : -, at most 128');

/** The fields every agent task takes: what `defineAgent`'s workflows read from their input. */
export const agentFields = {
  prompt: z.string().min(1).max(20_000),
  customerId: reference.optional(),
  scenario: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .optional()
    .describe('Scripted sandbox scenario (ignored by the real API).'),
  maxTurns: z.number().int().min(1).max(200).optional(),
};

type AgentFields = z.output<z.ZodObject<typeof agentFields>>;

/** What {@link agentTask} takes besides the workflow. */
export interface AgentTaskOptions<E extends z.ZodRawShape> {
  /** The body's `kind`. Default `agent`. */
  kind?: string;
  /** Fields your agent's input adds (read by its `policy`), e.g. an approval limit. */
  extend?: E;
  description?: string;
}

/**
 * A task kind for an agent built with `defineAgent`: the body is `{kind, prompt, customerId?,
 * scenario?, maxTurns?, …extend}` and becomes the workflow's input as is. The run's summary names the
 * customer; its details hold the start of the prompt.
 */
export function agentTask<E extends z.ZodRawShape = Record<never, never>>(
  workflow: string | { readonly name: string },
  options: AgentTaskOptions<E> = {},
) {
  const kind = options.kind ?? 'agent';
  return buildKind(
    {
      kind,
      workflow,
      input: z.object({ ...agentFields, ...(options.extend ?? ({} as E)) }),
      description:
        options.description ?? `An agent task: a prompt for the ${workflowTypeOf(workflow)} agent.`,
      summary: (fields) => {
        const { customerId } = fields as AgentFields;
        return `${kind} task${customerId ? ` for ${customerId}` : ''}`;
      },
      details: (fields) => (fields as AgentFields).prompt.slice(0, 500),
    },
    true,
  );
}

/** The whole body of a kind: its fields, its `kind` and the optional `taskId`. */
function bodyOf(kind: TaskKind): z.ZodObject {
  return kind.input.extend({ kind: z.literal(kind.kind), taskId: taskKey.optional() });
}

/** A validated request: its kind and body (with `kind`, and `taskId` when sent). */
export interface ParsedTask {
  kind: TaskKind;
  body: { kind: string; taskId?: string | undefined } & Record<string, unknown>;
}

/** The task kinds of one backend: the schema of `POST /tasks` and the parser behind it. */
export class TaskRegistry {
  readonly kinds: ReadonlyMap<string, TaskKind>;
  /** The body schema: a union over `kind`, each with an optional `taskId`. */
  readonly schema: z.ZodType;
  /** Each kind's whole body schema, built once. */
  private readonly bodies = new Map<string, z.ZodObject>();

  constructor(kinds: readonly TaskKind[]) {
    if (kinds.length === 0) throw new TypeError('a task registry needs at least one task kind');
    this.kinds = new Map(kinds.map((k) => [k.kind, k]));
    if (this.kinds.size !== kinds.length) throw new TypeError('task kinds: duplicate kind names');
    for (const k of kinds) this.bodies.set(k.kind, bodyOf(k));
    const [first, ...rest] = kinds.map((k) => this.bodies.get(k.kind)!.describe(k.description ?? k.kind));
    this.schema = z.discriminatedUnion('kind', [first!, ...rest]);
  }

  /** Validates a body; {@link InvalidTaskRequestError} names each bad field, or the known kinds. */
  parse(value: unknown): ParsedTask {
    const named =
      typeof value === 'object' && value !== null ? (value as { kind?: unknown }).kind : undefined;
    const kind = typeof named === 'string' ? this.kinds.get(named) : undefined;
    if (!kind) {
      throw new InvalidTaskRequestError(
        `kind: expected one of ${[...this.kinds.keys()].join(', ')}${named === undefined ? '' : `, got ${JSON.stringify(named)}`}`,
      );
    }
    const parsed = kind.input
      .extend({ kind: z.literal(kind.kind), taskId: taskKey.optional() })
      .safeParse(value);
    if (!parsed.success) throw new InvalidTaskRequestError(formatIssues(parsed.error));
    return { kind, body: parsed.data as ParsedTask['body'] };
  }
}

const registries = new WeakMap<readonly TaskKind[], TaskRegistry>();

/** The registry of a list of kinds, built once per list. */
export function registryOf(kinds: readonly TaskKind[] | TaskRegistry): TaskRegistry {
  if (kinds instanceof TaskRegistry) return kinds;
  let registry = registries.get(kinds);
  if (!registry) {
    registry = new TaskRegistry(kinds);
    registries.set(kinds, registry);
  }
  return registry;
}
