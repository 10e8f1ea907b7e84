import { proxyActivities } from '@temporalio/workflow';
import type { BareActivities } from './activities.js';

const acts = proxyActivities<BareActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { maximumAttempts: 8 },
});

/** The baseline: the order saga's four downstream calls, in order, and nothing else. */
export async function bareOrderWorkflow(input: {
  orderId: string;
  customerId: string;
  email: string;
  amount: number;
}) {
  await acts.bareCreateOrder(input);
  const paymentIntentId = await acts.bareCharge(input);
  await acts.bareBookShipment(input);
  await acts.bareSendEmail({ orderId: input.orderId, to: input.email });
  return { paymentIntentId };
}
