/**
 * The order saga: a hand-written workflow with no model, built from the same tool definitions as the
 * order agent (`./tools.ts`), so its keys and compensations are the agent's.
 */
import type { Duration } from '@temporalio/common';
import { ApplicationFailure, setCurrentDetails, type RetryPolicy } from '@temporalio/workflow';
import { runSaga, type Execution, type RunSagaOptions, type StepRecord, type Tool } from 'onceflow/workflow';
import { bookShipment, chargePayment, createOrder, sendEmail } from './tools.js';
import type { Charge, OrderItem, SentEmail, Shipment, ShipmentInput } from './types.js';

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
  /** Retry policy of compensations; default the `compensationCall` preset's. */
  compensationRetry?: RetryPolicy;
  /**
   * Start-to-close timeout of each effect attempt (default 5 s for local steps, 30 s for regular ones).
   */
  effectTimeout?: Duration;
  /** Where the steps run (see `Execution`); default onceflow's (`regular`). */
  execution?: Execution;
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

/**
 * A fixed multi-step saga with no model: create the order row → charge → book the shipment → send
 * the confirmation email. On failure or cancellation the done steps are undone in reverse (cancel the
 * order, refund, release the shipment, send a correction email), each exactly once.
 */
export async function orderWorkflow(input: OrderInput): Promise<OrderResult> {
  const amount = input.items.reduce((sum, item) => sum + item.quantity * item.unitAmount, 0);
  const order = { order_id: input.orderId, customer_id: input.customerId };
  const options: RunSagaOptions = {
    title: `order ${input.orderId}`,
    kind: 'order',
    customer: input.customerId,
    compensatedType: 'ORDER_COMPENSATED',
    undoneType: 'ORDER_UNDONE',
    overrides: input,
    ...(input.execution ? { execution: input.execution } : {}),
  };
  return runSaga(options, async ({ step: run, records }) => {
    /** One step; the drill aborts right after the step it names. */
    const step = async <T>(tool: Tool, toolInput: object): Promise<T> => {
      const result = await run<T>(tool, toolInput);
      if (input.failAfter === tool.name)
        throw ApplicationFailure.nonRetryable(`drill: order aborted after ${tool.name}`, 'ORDER_DRILL');
      return result;
    };
    setCurrentDetails(`creating order ${input.orderId}`);
    await step(createOrder, {
      ...order,
      items: input.items.map((i) => ({ sku: i.sku, quantity: i.quantity, unit_amount: i.unitAmount })),
      currency: input.currency,
    });
    setCurrentDetails(`charging ${amount} ${input.currency} for ${input.orderId}`);
    const charge = await step<Charge>(chargePayment, {
      ...order,
      amount,
      currency: input.currency,
      ...(input.paymentMethod ? { payment_method: input.paymentMethod } : {}),
    });
    setCurrentDetails(`booking the shipment of ${input.orderId}`);
    const a = input.shippingAddress;
    const shipment = await step<Shipment>(bookShipment, {
      order_id: input.orderId,
      address: { name: a.name, line1: a.line1, city: a.city, postal_code: a.postalCode, country: a.country },
    });
    setCurrentDetails(`emailing ${input.email}`);
    const email = await step<SentEmail>(sendEmail, {
      order_id: input.orderId,
      to: input.email,
      template: 'order_confirmation',
      subject: `Your order ${input.orderId} is confirmed`,
      body: `Thank you. We charged ${formatAmount(amount, input.currency)} and booked shipment ${shipment.shipmentId}.`,
    });
    return {
      orderId: input.orderId,
      status: 'completed' as const,
      amount,
      currency: input.currency,
      paymentIntentId: charge.paymentIntentId,
      shipmentId: shipment.shipmentId,
      messageId: email.messageId,
      steps: records,
    };
  });
}

function formatAmount(amount: number, currency: string): string {
  return `${(amount / 100).toFixed(2)} ${currency.toUpperCase()}`;
}
