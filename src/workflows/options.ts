import { ActivityCancellationType, type ActivityOptions } from '@temporalio/workflow';

/**
 * Side effects: retried with the same key by Temporal. WAIT_CANCELLATION_COMPLETED keeps a cancelled
 * workflow from compensating while the effect is still in flight (it would find nothing to undo yet).
 */
export const effectCall: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '10 seconds',
  cancellationType: ActivityCancellationType.WAIT_CANCELLATION_COMPLETED,
  retry: {
    initialInterval: '500 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '10 seconds',
    maximumAttempts: 20,
  },
};

/** Compensations: patient, since giving up means a person has to step in. */
export const compensationCall: ActivityOptions = {
  startToCloseTimeout: '30 seconds',
  heartbeatTimeout: '10 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '30 seconds',
    maximumAttempts: 10,
  },
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
  retry: { initialInterval: '200 milliseconds', maximumAttempts: 5 },
};
