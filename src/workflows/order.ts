import {
  ApplicationFailure,
  defineQuery,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  type ActivityOptions,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Activities } from '../activities/index.js';
import { shortKey } from '../idempotency/keys.js';
import {
  EFFECTS,
  type EffectResult,
  type Intent,
  type OrderItem,
  type ShipmentInput,
} from '../tools/effects.js';
import { intentFor, undoIntent } from './intents.js';
import { compensationCall, effectCall } from './options.js';
import { reconcileBeforeComplete } from './reconcile.js';
import { describeError, Saga, sagaStateQuery, sagaStateUpserter } from './saga.js';
import { CUSTOMER, TASK_KIND, TASK_STATUS } from './search-attributes.js';

/** The steps of an order, in order. */
export const ORDER_STEPS = ['create_order', 'charge_payment', 'book_shipment', 'send_email'] as const;
export type OrderStep = (typeof ORDER_STEPS)[number];

/** Input of {@link orderWorkflow}. Start it with workflow ID = the order's task ID. */
export interface OrderInput {
  orderId: string;
  customerId: string;
  email: string;
  items: OrderItem[];
  currency: string;
  shippingAddress: ShipmentInput['address'];
  /** Stripe payment method; `pm_card_chargeDeclined` makes the charge fail (a business error). */
  paymentMethod?: string;
  /** Drill: abort the order right after this step succeeded, to watch the saga undo it. */
  failAfter?: OrderStep;
  /** Retry policy of compensations; default {@link compensationCall}'s. */
  compensationRetry?: RetryPolicy;
  /**
   * Start-to-close timeout of each effect attempt, default 30 s: how long a crashed worker's attempt
   * holds its claim before the next attempt takes over.
   */
  effectTimeout?: Duration;
}

/** One executed step as reported in the result and the `steps` of the saga. */
export interface StepRecord {
  step: string;
  key: string;
  outcome: EffectResult<unknown>['outcome'];
}

export interface OrderResult {
  orderId: string;
  status: 'completed';
  amount: number;
  currency: string;
  paymentIntentId: string;
  shipmentId: string;
  messageId: string;
  steps: StepRecord[];
}

/** The side effects performed so far, with keys and whether the ledger executed or replayed them. */
export const stepsQuery = defineQuery<StepRecord[]>('steps');

/**
 * A fixed multi-step saga with no model: create the order row → charge → book the shipment → send
 * the confirmation email. On failure or cancellation the done steps are undone in reverse (cancel the
 * order, refund, release the shipment, send a correction email), each exactly once.
 */
export async function orderWorkflow(input: OrderInput): Promise<OrderResult> {
  const compensation: ActivityOptions = input.compensationRetry
    ? { ...compensationCall, retry: input.compensationRetry }
    : compensationCall;
  const effectOptions: ActivityOptions = input.effectTimeout
    ? { ...effectCall, startToCloseTimeout: input.effectTimeout }
    : effectCall;
  const effects = proxyActivities<Activities>(effectOptions);
  const undo = proxyActivities<Activities>(compensation);
  const records: StepRecord[] = [];
  const saga = new Saga(sagaStateUpserter());
  setHandler(sagaStateQuery, () => saga.state());
  setHandler(stepsQuery, () => records);
  upsertSearchAttributes([
    { key: TASK_KIND, value: 'order' },
    { key: CUSTOMER, value: input.customerId },
    { key: TASK_STATUS, value: 'running' },
  ]);

  const note = <T>(step: string, done: EffectResult<T>): T => {
    records.push({ step, key: done.key, outcome: done.outcome });
    return done.result;
  };
  const drill = (step: OrderStep) => {
    if (input.failAfter === step) {
      throw ApplicationFailure.nonRetryable(`drill: order aborted after ${step}`, 'ORDER_DRILL');
    }
  };
  const amount = input.items.reduce((sum, item) => sum + item.quantity * item.unitAmount, 0);

  try {
    setCurrentDetails(`creating order ${input.orderId}`);
    const orderInput = {
      orderId: input.orderId,
      customerId: input.customerId,
      items: input.items,
      currency: input.currency,
    };
    const orderIntent = intentFor(EFFECTS.create_order, orderInput);
    await saga.step(
      {
        name: 'create_order',
        key: orderIntent.key,
        undo: 'cancel the order row',
        compensate: () => {
          const intent = undoIntent(orderIntent, { orderId: input.orderId });
          return undo.cancelOrder.executeWithOptions(summary(`cancel order ${input.orderId}`, intent), [
            { intent, input: { orderId: input.orderId } },
          ]);
        },
      },
      async () =>
        note(
          'create_order',
          await effects.createOrder.executeWithOptions(
            summary(`create order ${input.orderId} for ${input.customerId}`, orderIntent),
            [{ intent: orderIntent, input: orderInput }],
          ),
        ),
    );
    drill('create_order');

    setCurrentDetails(`charging ${amount} ${input.currency} for ${input.orderId}`);
    const chargeInput = {
      orderId: input.orderId,
      customerId: input.customerId,
      amount,
      currency: input.currency,
      ...(input.paymentMethod ? { paymentMethod: input.paymentMethod } : {}),
    };
    const chargeIntent = intentFor(EFFECTS.charge_payment, chargeInput);
    const charge = await saga.step(
      {
        name: 'charge_payment',
        key: chargeIntent.key,
        undo: 'refund the charge',
        personAction: `refund the payment of order ${input.orderId} (key ${chargeIntent.key}) in the payments dashboard`,
        compensate: () => {
          const refundInput = {
            orderId: input.orderId,
            customerId: input.customerId,
            chargeKey: chargeIntent.key,
          };
          const intent = undoIntent(chargeIntent, refundInput);
          return undo.refundPayment.executeWithOptions(summary(`refund ${input.orderId}`, intent), [
            { intent, input: refundInput },
          ]);
        },
      },
      async () =>
        note(
          'charge_payment',
          await effects.chargePayment.executeWithOptions(
            summary(`charge ${input.customerId} ${amount} ${input.currency}`, chargeIntent),
            [{ intent: chargeIntent, input: chargeInput }],
          ),
        ),
    );
    drill('charge_payment');

    setCurrentDetails(`booking the shipment of ${input.orderId}`);
    const shipmentInput = { orderId: input.orderId, address: input.shippingAddress };
    const shipmentIntent = intentFor(EFFECTS.book_shipment, shipmentInput);
    const shipment = await saga.step(
      {
        name: 'book_shipment',
        key: shipmentIntent.key,
        undo: 'release the shipment',
        compensate: () => {
          const intent = undoIntent(shipmentIntent, { orderId: input.orderId });
          return undo.releaseShipment.executeWithOptions(
            summary(`release shipment ${input.orderId}`, intent),
            [{ intent, input: { orderId: input.orderId } }],
          );
        },
      },
      async () =>
        note(
          'book_shipment',
          await effects.bookShipment.executeWithOptions(
            summary(`book shipment ${input.orderId}`, shipmentIntent),
            [{ intent: shipmentIntent, input: shipmentInput }],
          ),
        ),
    );
    drill('book_shipment');

    setCurrentDetails(`emailing ${input.email}`);
    const emailInput = {
      orderId: input.orderId,
      to: input.email,
      template: 'order_confirmation',
      subject: `Your order ${input.orderId} is confirmed`,
      text: `Thank you. We charged ${formatAmount(amount, input.currency)} and booked shipment ${shipment.shipmentId}.`,
    };
    const emailIntent = intentFor(EFFECTS.send_email, emailInput);
    const email = await saga.step(
      {
        name: 'send_email',
        key: emailIntent.key,
        irreversible: true,
        undo: 'send a correction email',
        personAction: `tell ${input.email} that order ${input.orderId} was cancelled`,
        compensate: () => {
          // An email cannot be unsent: if the confirmation went out (or may have), a correction follows.
          const correction = {
            orderId: input.orderId,
            to: input.email,
            template: 'order_cancelled',
            subject: `Your order ${input.orderId} was cancelled`,
            text: `Please disregard our confirmation: order ${input.orderId} was cancelled and any charge refunded.`,
            originalKey: emailIntent.key,
          };
          const intent = undoIntent(emailIntent, correction);
          return undo.sendCorrectionEmail.executeWithOptions(
            summary(`correction email ${input.orderId}`, intent),
            [{ intent, input: correction }],
          );
        },
      },
      async () =>
        note(
          'send_email',
          await effects.sendEmail.executeWithOptions(
            summary(`email ${input.email} confirmation`, emailIntent),
            [{ intent: emailIntent, input: emailInput }],
          ),
        ),
    );
    drill('send_email');

    const undone = await reconcileBeforeComplete(saga);
    if (undone.length > 0) {
      // A reset past a compensation: what this order consists of was undone, so it cannot complete.
      throw ApplicationFailure.nonRetryable(
        `order ${input.orderId} was undone by an earlier run (${undone.length} steps undone)`,
        'ORDER_UNDONE',
      );
    }
    saga.complete();
    upsertSearchAttributes([{ key: TASK_STATUS, value: 'completed' }]);
    setCurrentDetails(`order ${input.orderId} completed`);
    return {
      orderId: input.orderId,
      status: 'completed',
      amount,
      currency: input.currency,
      paymentIntentId: charge.paymentIntentId,
      shipmentId: shipment.shipmentId,
      messageId: email.messageId,
      steps: records,
    };
  } catch (err) {
    const cancelled = isCancellation(err);
    setCurrentDetails(`compensating: ${cancelled ? 'cancelled' : describeError(err)}`);
    const state = await saga.compensate(cancelled ? 'cancelled' : describeError(err));
    upsertSearchAttributes([{ key: TASK_STATUS, value: state.status }]);
    setCurrentDetails(
      state.status === 'compensation_failed'
        ? `needs a person: ${state.needsAttention.map((a) => a.action).join('; ')}`
        : `order ${input.orderId} undone`,
    );
    if (cancelled) throw err;
    throw ApplicationFailure.create({
      type: state.status === 'compensation_failed' ? 'COMPENSATION_FAILED' : 'ORDER_COMPENSATED',
      message: `order ${input.orderId} failed and was ${state.status === 'compensation_failed' ? 'not fully undone' : 'undone'}: ${state.reason ?? ''}`,
      nonRetryable: true,
      details: [state],
    });
  }
}

function summary(text: string, intent: Intent): { summary: string } {
  return { summary: `${text} · ${shortKey(intent.key)}` };
}

function formatAmount(amount: number, currency: string): string {
  return `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;
}
