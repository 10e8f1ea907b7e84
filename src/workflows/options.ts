import {
  ActivityCancellationType,
  type ActivityOptions,
  type LocalActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';

const EFFECT_RETRY: RetryPolicy = {
  initialInterval: '500 milliseconds',
  backoffCoefficient: 2,
  maximumInterval: '10 seconds',
  maximumAttempts: 20,
};
const COMPENSATION_RETRY: RetryPolicy = {
  initialInterval: '1 second',
  backoffCoefficient: 2,
  maximumInterval: '30 seconds',
  maximumAttempts: 10,
};
const READ_RETRY: RetryPolicy = { initialInterval: '200 milliseconds', maximumAttempts: 5 };

/**
 * Side effects: retried with the same key by Temporal. WAIT_CANCELLATION_COMPLETED keeps a cancelled
 * workflow from compensating while the effect is still in flight (it would find nothing to undo yet).
 */
export const effectCall: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: EFFECT_RETRY,
};

/** Compensations: patient, since giving up means a person has to step in. */
export const compensationCall: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '10 seconds',
  retry: COMPENSATION_RETRY,
};

/** Model turns: retried on 429/5xx/connection errors, not on a rejected request. */
export const modelCall: ActivityOptions = {
  startToCloseTimeout: '2 minutes',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 8,
  },
};

/** Reads: cheap to retry. */
export const readCall: ActivityOptions = {
  startToCloseTimeout: '10 seconds',
  heartbeatTimeout: '10 seconds',
  retry: READ_RETRY,
};

/**
 * Local activity options for effects: run inside the workflow task on the worker that decided them, so
 * no server round trip per call. A local activity is re-run when its workflow task fails or its worker
 * dies (after the workflow task timeout, on another worker); the ledger turns that re-run into a replay
 * or a recovery under the same key. Its start-to-close timeout also sets the ledger lease of the claim
 * (timeout + 5 s), so a crashed attempt's key is taken over ~10 s after the claim: keep it short, and
 * run effects that may take longer as regular activities (`execution: 'regular'`).
 */
export const localEffectCall: LocalActivityOptions = {
  startToCloseTimeout: '5 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: EFFECT_RETRY,
};

/** Local compensations: as {@link compensationCall}, with the local start-to-close of effects. */
export const localCompensationCall: LocalActivityOptions = {
  startToCloseTimeout: '5 seconds',
  retry: COMPENSATION_RETRY,
};

/** Local reads. */
export const localReadCall: LocalActivityOptions = {
  startToCloseTimeout: '5 seconds',
  retry: READ_RETRY,
};

/**
 * Listing an MCP server's tools at a session's start: a stdio server may take seconds to spawn; a
 * server that is down is retried for about a minute before the session fails (nothing was done yet).
 */
export const mcpListCall: ActivityOptions = {
  startToCloseTimeout: '1 minute',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 8,
  },
};
