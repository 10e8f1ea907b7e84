import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  defineQuery,
  isCancellation,
  metricMeter,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import { EffectUndoneError } from '../idempotency/errors.js';
import { SAGA_STATE } from './search-attributes.js';
import { onceflowPatched } from './patches.js';

/**
 * `undone`: the step's effect was done and then undone by a compensation, in this run or in a run a
 * reset replaced; it is not in effect and nothing is left to compensate.
 */
export type StepStatus =
  'running' | 'succeeded' | 'failed' | 'undone' | 'compensating' | 'compensated' | 'compensation_failed';

/** What the saga knows of one step; exposed by query. */
export interface SagaStepState {
  name: string;
  key?: string | undefined;
  status: StepStatus;
  irreversible: boolean;
  /** What undoing it means: "refund the charge", or for irreversible steps the correcting action. */
  undo: string;
  error?: string;
}

/** A compensation that could not succeed: what a person must do. */
export interface AttentionItem {
  step: string;
  key?: string | undefined;
  error: string;
  action: string;
}

export type SagaStatus =
  'idle' | 'running' | 'completed' | 'compensating' | 'compensated' | 'compensation_failed';

/** The saga's state: a query result and, by `status`, a search attribute. */
export interface SagaState {
  status: SagaStatus;
  reason?: string;
  steps: SagaStepState[];
  needsAttention: AttentionItem[];
}

/** The saga's state: steps, their keys and statuses, and what needs a person. Any saga workflow. */
export const sagaStateQuery = defineQuery<SagaState>('sagaState');

/** One step of a saga and how to undo it. */
export interface StepDefinition {
  name: string;
  /** The step's intent key, shown in queries and attention items. */
  key?: string;
  /** What undoing means, in words ("refund the charge"). */
  undo: string;
  /** True for effects that cannot be undone (an email); `compensate` is then a correcting action. */
  irreversible?: boolean;
  /**
   * Undoes the step. It is called whatever the step's outcome (done, failed, unknown, or done in an
   * earlier run before continue-as-new), so it reads what the step did where that is recorded (the
   * ledger, by the step's key: see `undoing()` on the activity side), treats "nothing to undo" as
   * success, and is idempotent under its own key. The saga holds no step results: a result kept in
   * workflow state would be stale after continue-as-new or a reset, and would grow history.
   */
  compensate: () => Promise<unknown>;
  /** What a person should do if `compensate` keeps failing. Default: "<undo> by hand". */
  personAction?: string;
}

/** True for the failure of an effect that the ledger reports done and then undone. */
export function isUndone(err: unknown): boolean {
  return failureType(err) === EffectUndoneError.CODE;
}

/** The `type` of the application failure behind an activity failure, if there is one. */
export function failureType(err: unknown): string | undefined {
  const cause = err instanceof ActivityFailure ? err.cause : err;
  return cause instanceof ApplicationFailure ? (cause.type ?? undefined) : undefined;
}

/** An error in one line: an activity failure's own message is in its cause. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const cause = (err as { cause?: unknown }).cause;
    return cause instanceof Error ? `${err.message}: ${cause.message}` : err.message;
  }
  return String(err);
}

const compensations = () =>
  metricMeter.createCounter('onceflow_compensations', 'compensations', 'saga compensations by result');

interface Entry {
  def: StepDefinition;
  state: SagaStepState;
}

/** Options of {@link Saga}. */
export interface SagaOptions {
  /**
   * Given the keys of the saga's steps, the task's other effects that must be undone with it, as
   * steps: effects performed by a workflow task whose history was lost (see `DEFAULT_EXECUTION`).
   * `runSaga` and agents set it; without it the saga knows only its own steps.
   */
  unrecorded?: (known: string[]) => Promise<StepDefinition[]>;
}

/**
 * Register-then-run saga for workflow code.
 *
 * - A step's compensation is registered *before* the step runs, because a step that times out or
 *   crashes may still have happened.
 * - `compensate()` runs compensations in reverse order inside a non-cancellable scope, so it completes
 *   even when the workflow is being cancelled. Each compensation carries its own key and retry policy
 *   (set on the activity it calls); one that still fails after its retries is recorded and the others
 *   run anyway. The saga then ends `compensation_failed` with what a person must do.
 * - Calling `compensate()` twice runs each compensation once.
 */
export class Saga {
  private readonly entries: Entry[] = [];
  private status: SagaStatus = 'idle';
  private reason: string | undefined;
  private readonly attention: AttentionItem[] = [];

  constructor(
    private readonly onChange: (state: SagaState) => void = () => undefined,
    private readonly options: SagaOptions = {},
  ) {}

  /** True when the saga finds the task's unrecorded effects in the ledger (the `unrecorded` option). */
  get reconciles(): boolean {
    return this.options.unrecorded !== undefined;
  }

  /** Registers `def`'s compensation, then runs `action`. Rethrows the action's error. */
  async step<T>(def: StepDefinition, action: () => Promise<T>): Promise<T> {
    if (
      this.status === 'compensating' ||
      this.status === 'compensated' ||
      this.status === 'compensation_failed'
    ) {
      throw new Error(`saga is ${this.status}; step ${def.name} not started`);
    }
    const entry: Entry = {
      def: def,
      state: {
        name: def.name,
        key: def.key,
        status: 'running',
        irreversible: def.irreversible ?? false,
        undo: def.undo,
      },
    };
    this.entries.push(entry);
    this.setStatus('running');
    try {
      const result = await action();
      entry.state.status = 'succeeded';
      this.notify();
      return result;
    } catch (err) {
      entry.state.status = isUndone(err) ? 'undone' : 'failed';
      entry.state.error = isCancellation(err) ? 'cancelled' : describeError(err);
      this.notify();
      throw err;
    }
  }

  /**
   * Marks the succeeded steps with these keys `undone`: the ledger says an earlier run (one a reset
   * replaced) compensated them, although this run inherited their results from history.
   */
  markUndone(keys: readonly string[]): void {
    const undone = new Set(keys);
    for (const entry of this.entries) {
      if (entry.state.status === 'succeeded' && entry.def.key !== undefined && undone.has(entry.def.key)) {
        entry.state.status = 'undone';
      }
    }
    this.notify();
  }

  /** Keys of the steps that are in effect as far as this run knows (status `succeeded`). */
  succeededKeys(): string[] {
    return this.entries.flatMap((e) =>
      e.state.status === 'succeeded' && e.def.key !== undefined ? [e.def.key] : [],
    );
  }

  /**
   * Registers a step that already succeeded in an earlier run (continue-as-new carries the saga as
   * data; compensations are rebuilt from it), so a later failure still undoes it.
   */
  adopt(def: StepDefinition): void {
    this.entries.push({
      def: def,
      state: {
        name: def.name,
        key: def.key,
        status: 'succeeded',
        irreversible: def.irreversible ?? false,
        undo: def.undo,
      },
    });
    if (this.status === 'idle') this.status = 'running';
  }

  /** Marks the saga finished: nothing will be compensated any more. */
  complete(): void {
    this.setStatus('completed');
  }

  /**
   * Completes the saga. With `unrecorded` set, first asks it for effects of this task that no step of
   * this run knows (done by a workflow task whose history was lost) and undoes those alone, so that
   * what is in effect is what this run recorded.
   */
  async settle(): Promise<SagaState> {
    const found = await CancellationScope.nonCancellable(() => this.adoptUnrecorded());
    if (found.length > 0) {
      this.reason = `undid ${found.length} effects this run did not record`;
      await CancellationScope.nonCancellable(() => this.undo(found.reverse()));
    }
    this.complete();
    return this.state();
  }

  /**
   * Runs every registered compensation in reverse order; returns the final state. Effects of the task
   * that `unrecorded` reports are adopted first and so undone first.
   */
  async compensate(reason: string): Promise<SagaState> {
    if (
      this.status === 'compensating' ||
      this.status === 'compensated' ||
      this.status === 'compensation_failed'
    ) {
      return this.state();
    }
    this.reason = reason;
    this.setStatus('compensating');
    await CancellationScope.nonCancellable(async () => {
      await this.adoptUnrecorded();
      await this.undo([...this.entries].reverse());
    });
    this.setStatus(this.attention.length > 0 ? 'compensation_failed' : 'compensated');
    return this.state();
  }

  /** Adopts the effects `unrecorded` reports as succeeded steps; returns their entries. */
  private async adoptUnrecorded(): Promise<Entry[]> {
    if (!this.options.unrecorded) return [];
    const known = this.entries.flatMap((e) => (e.def.key !== undefined ? [e.def.key] : []));
    const defs = await this.options.unrecorded(known);
    for (const def of defs) this.adopt(def);
    return this.entries.slice(this.entries.length - defs.length);
  }

  /** Runs the compensations of `entries` in the order given, recording failures for a person. */
  private async undo(entries: Entry[]): Promise<void> {
    for (const entry of entries) {
      if (entry.state.status === 'undone') continue; // compensated already, by its own key
      entry.state.status = 'compensating';
      this.notify();
      try {
        await entry.def.compensate();
        entry.state.status = 'compensated';
        compensations().add(1, { result: 'compensated' });
      } catch (err) {
        entry.state.status = 'compensation_failed';
        entry.state.error = describeError(err);
        compensations().add(1, { result: 'failed' });
        this.attention.push({
          step: entry.def.name,
          key: entry.def.key,
          error: describeError(err),
          action: entry.def.personAction ?? `${entry.def.undo} by hand`,
        });
      }
      this.notify();
    }
  }

  /** A copy of the current state. */
  state(): SagaState {
    return {
      status: this.status,
      ...(this.reason !== undefined ? { reason: this.reason } : {}),
      steps: this.entries.map((e) => ({ ...e.state })),
      needsAttention: this.attention.map((a) => ({ ...a })),
    };
  }

  private setStatus(status: SagaStatus): void {
    this.status = status;
    this.notify();
  }

  private notify(): void {
    this.onChange(this.state());
  }
}

const SAGA_STATE_ON_CHANGE = 'saga-state-upsert-on-change';

/**
 * The `onChange` that mirrors the saga's status into the `OnceflowSagaState` search attribute, only when
 * it changes: each upsert is a command, a history event and a visibility write, and a step notifies
 * twice with the same status. Histories from before the patch upserted on every notification.
 */
export function sagaStateUpserter(): (state: SagaState) => void {
  let last: string | undefined;
  return (state) => {
    if (state.status === last && onceflowPatched(SAGA_STATE_ON_CHANGE)) return;
    last = state.status;
    upsertSearchAttributes([{ key: SAGA_STATE, value: state.status }]);
  };
}
