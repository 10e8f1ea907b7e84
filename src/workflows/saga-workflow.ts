import {
  ApplicationFailure,
  isCancellation,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  type ActivityOptions,
  type LocalActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Execution, Tool } from '../tools/define.js';
import type { EffectResult } from '../tools/effects.js';
import { compensationCall, effectCall, localCompensationCall, localEffectCall } from './options.js';
import { ActivityCaller } from './activity-call.js';
import { reconcileBeforeComplete } from './reconcile.js';
import { unrecordedSteps } from './unrecorded.js';
import { describeError, Saga, sagaStateQuery, sagaStateUpserter } from './saga.js';
import { CUSTOMER, TASK_KIND, TASK_STATUS } from './search-attributes.js';
import {
  stepsQuery,
  toolStep,
  type ApprovalRequest,
  type StepRecord,
  type ToolStepOptions,
} from './tool-step.js';
import { approvalDesk } from './approvals.js';
import { startPatches } from './patches.js';

/** Options of {@link runSaga}. */
export interface RunSagaOptions {
  /** What the task is called in details and failures: `order ord_1`, `trip T-7`. */
  title: string;
  /** `OnceflowKind` search attribute. */
  kind: string;
  /** `OnceflowCustomer` search attribute, when the task acts for someone. */
  customer?: string;
  /** Failure type when the saga failed and was undone; default `SAGA_COMPENSATED`. */
  compensatedType?: string;
  /** Failure type when a reset run finds its steps undone by an earlier run; default `SAGA_UNDONE`. */
  undoneType?: string;
  /**
   * Where the steps' effects and compensations run, for tools that do not choose (`execution` on the
   * tool wins). Default `DEFAULT_EXECUTION` (`local`).
   */
  execution?: Execution;
  /** Options of each effect's activity and of each compensation (defaults: the presets). */
  effect?: ActivityOptions;
  compensation?: ActivityOptions;
  /** The same for local execution (defaults: `localEffectCall`, `localCompensationCall`). */
  localEffect?: LocalActivityOptions;
  localCompensation?: LocalActivityOptions;
  /** Per-task overrides applied over those options (a workflow input usually carries them). */
  overrides?: SagaOverrides;
  /**
   * What the tools' `approval` rules read. Set, a step whose rule flags it waits for the `approve` or
   * `deny` update (API `POST /tasks/:id/approve`, CLI `onceflow approve`) before its effect, with
   * `OnceflowStatus` `waiting_approval`; a denial or `approvalTimeout` fails the step and the saga
   * undoes the steps done. Unset (the default), approval rules are not evaluated.
   */
  policy?: unknown;
  /** How long a step waits for a decision before it counts as denied. Default 24 hours. */
  approvalTimeout?: Duration;
}

/** Per-task activity overrides of a saga. */
export interface SagaOverrides {
  /**
   * Start-to-close timeout of each effect attempt (default 5 s local, 30 s regular). A local attempt's
   * claim is held for this plus 5 s; a regular one's for its heartbeat timeout plus 5 s, renewed.
   */
  effectTimeout?: Duration;
  /** Retry policy of the compensations. */
  compensationRetry?: RetryPolicy;
}

/** What the body of {@link runSaga} runs its steps with. */
export interface SagaSteps {
  /** Runs one effect tool as a saga step (see `toolStep`) and records it for the `steps` query. */
  step: <T>(tool: Tool, input: object) => Promise<T>;
  saga: Saga;
  /** The steps run so far, as the `steps` query answers. */
  records: StepRecord[];
}

/**
 * The skeleton of a hand-written saga workflow, so yours holds only its steps: answers the
 * `sagaState` and `steps` queries, sets `OnceflowKind`/`OnceflowCustomer`/`OnceflowStatus`, runs
 * `body`, and before completing checks with the ledger that no step was undone by an earlier run (a
 * reset past a compensation: fails with `undoneType`, and compensates). On a failure the done steps are
 * undone in reverse and the workflow fails non-retryably with `compensatedType` (or
 * `COMPENSATION_FAILED` when a compensation could not succeed; the saga state is the failure's
 * details); on cancellation they are undone and the cancellation is rethrown.
 */
export async function runSaga<R>(
  options: RunSagaOptions,
  body: (steps: SagaSteps) => Promise<R>,
): Promise<R> {
  startPatches(); // first: before any local activity of this workflow task
  const overrides: SagaOverrides = options.overrides ?? {};
  const timed = <O extends { startToCloseTimeout?: Duration }>(o: O): O =>
    overrides.effectTimeout ? { ...o, startToCloseTimeout: overrides.effectTimeout } : o;
  const retried = <O extends { retry?: RetryPolicy }>(o: O): O =>
    overrides.compensationRetry ? { ...o, retry: overrides.compensationRetry } : o;
  const compensation = {
    regular: retried(options.compensation ?? compensationCall),
    local: retried(options.localCompensation ?? localCompensationCall),
  };
  const stepOptions: ToolStepOptions = {
    ...(options.execution ? { execution: options.execution } : {}),
    effect: timed(options.effect ?? effectCall),
    localEffect: timed(options.localEffect ?? localEffectCall),
    compensation: compensation.regular,
    localCompensation: compensation.local,
  };
  const undo = new ActivityCaller(compensation);
  const records: StepRecord[] = [];
  const saga = new Saga(sagaStateUpserter(), {
    unrecorded: unrecordedSteps(
      (execution) => (activity, summary, args) => undo.call(execution, activity, summary, args),
    ),
  });
  setHandler(sagaStateQuery, () => saga.state());
  setHandler(stepsQuery, () => records);
  upsertSearchAttributes([
    { key: TASK_KIND, value: options.kind },
    ...(options.customer !== undefined ? [{ key: CUSTOMER, value: options.customer }] : []),
    { key: TASK_STATUS, value: 'running' },
  ]);
  // Approvals only when the saga opted in with a policy: without one its updates are not registered.
  const desk =
    options.policy === undefined
      ? undefined
      : approvalDesk({
          timeout: options.approvalTimeout,
          onWaiting: (waiting) => {
            upsertSearchAttributes([{ key: TASK_STATUS, value: waiting ? 'waiting_approval' : 'running' }]);
            if (!waiting) setCurrentDetails(`${options.title}: running`);
          },
        });
  const approve = (request: ApprovalRequest) => desk!.ask({ id: request.step, ...request });
  const approvals = options.policy === undefined ? {} : { policy: options.policy, approve };
  const steps: SagaSteps = {
    saga,
    records,
    step: async <T>(tool: Tool, input: object): Promise<T> => {
      const done: EffectResult<T> = await toolStep<T>(saga, tool, input, { ...stepOptions, ...approvals });
      records.push({ step: tool.name, key: done.key, outcome: done.outcome });
      return done.result;
    },
  };
  try {
    const result = await body(steps);
    const undone = await reconcileBeforeComplete(saga);
    if (undone.length > 0) {
      throw ApplicationFailure.nonRetryable(
        `${options.title} was undone by an earlier run (${undone.length} steps undone)`,
        options.undoneType ?? 'SAGA_UNDONE',
      );
    }
    await saga.settle();
    upsertSearchAttributes([{ key: TASK_STATUS, value: 'completed' }]);
    setCurrentDetails(`${options.title} completed`);
    return result;
  } catch (err) {
    const cancelled = isCancellation(err);
    setCurrentDetails(`compensating: ${cancelled ? 'cancelled' : describeError(err)}`);
    const state = await saga.compensate(cancelled ? 'cancelled' : describeError(err));
    upsertSearchAttributes([{ key: TASK_STATUS, value: state.status }]);
    const failed = state.status === 'compensation_failed';
    setCurrentDetails(
      failed
        ? `needs a person: ${state.needsAttention.map((a) => a.action).join('; ')}`
        : `${options.title} undone`,
    );
    if (cancelled) throw err;
    throw ApplicationFailure.create({
      type: failed ? 'COMPENSATION_FAILED' : (options.compensatedType ?? 'SAGA_COMPENSATED'),
      message: `${options.title} failed and was ${failed ? 'not fully undone' : 'undone'}: ${state.reason ?? ''}`,
      nonRetryable: true,
      details: [state],
    });
  }
}

export type { StepRecord };
