import type pg from 'pg';
import type { OrderDownstream } from '../downstream.js';
import { createEmailActivities } from './email.js';
import { createPaymentsActivities } from './payments.js';
import { createRecordsActivities } from './records.js';

/** What the order activities need; the example's worker builds it once per process. */
export interface OrderDeps {
  pool: pg.Pool;
  downstream: OrderDownstream;
}

/** The order example's activities (payments, email, its own tables), given their clients. */
export function createOrderActivities(deps: OrderDeps) {
  return {
    ...createRecordsActivities(deps.pool),
    ...createPaymentsActivities(deps.downstream.stripe),
    ...createEmailActivities(deps.downstream.mailer, {
      from: deps.downstream.mailFrom,
      lookupUrl: deps.downstream.emailLookupUrl,
    }),
  };
}

/** The activity interface the order workflows import as a type. */
export type OrderActivities = ReturnType<typeof createOrderActivities>;
