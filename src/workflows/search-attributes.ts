import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

/** Lifecycle of a task: `running`, `waiting_approval`, `completed`, `compensated`, `compensation_failed`, `failed`, `denied`. */
export const TASK_STATUS = defineSearchAttributeKey('OnceflowStatus', SearchAttributeType.KEYWORD);
/** The saga's state: `idle`, `running`, `compensating`, `compensated`, `compensation_failed`. */
export const SAGA_STATE = defineSearchAttributeKey('OnceflowSagaState', SearchAttributeType.KEYWORD);
/** The customer the task acts for. */
export const CUSTOMER = defineSearchAttributeKey('OnceflowCustomer', SearchAttributeType.KEYWORD);
/** `agent` or `order`. */
export const TASK_KIND = defineSearchAttributeKey('OnceflowKind', SearchAttributeType.KEYWORD);
/** How many side effects the ledger replayed instead of repeating. */
export const DUPLICATES_PREVENTED = defineSearchAttributeKey(
  'OnceflowDuplicatesPrevented',
  SearchAttributeType.INT,
);

/** Every custom search attribute, registered with the server at start. */
export const SEARCH_ATTRIBUTES = [TASK_STATUS, SAGA_STATE, CUSTOMER, TASK_KIND, DUPLICATES_PREVENTED];
