import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { BareActivities } from './activities.js';

/** Both baselines retry and time out alike; only where the activity runs differs. */
const options = { startToCloseTimeout: '30 seconds', retry: { maximumAttempts: 8 } } as const;
const regular = proxyActivities<BareActivities>(options);
const local = proxyLocalActivities<BareActivities>(options);

/** Input of both bare order workflows. */
export interface BareOrderInput {
  orderId: string;
  customerId: string;
  email: string;
  amount: number;
}

/** The order saga's four downstream calls, in order, and nothing else: no keys, no ledger, no saga. */
async function bareOrder(acts: typeof regular, input: BareOrderInput) {
  await acts.bareCreateOrder(input);
  const paymentIntentId = await acts.bareCharge(input);
  await acts.bareBookShipment(input);
  await acts.bareSendEmail({ orderId: input.orderId, to: input.email });
  return { paymentIntentId };
}

/** The regular bare baseline, what a Temporal user writes: each call a regular activity task. */
export async function bareOrderWorkflow(input: BareOrderInput) {
  return bareOrder(regular, input);
}

/** The local bare baseline: the same calls as local activities (no server dispatch per call). */
export async function bareLocalOrderWorkflow(input: BareOrderInput) {
  return bareOrder(local, input);
}
