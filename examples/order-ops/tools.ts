/**
 * The order-operations agent's tools, defined once with onceflow's public API: schema, key rule,
 * compensation, approval and summary. The agent and the hand-written order saga both use them.
 */
import { abortTask, defineTool, type Tool } from 'onceflow';
import { z } from 'zod';
import type { ChargeInput, CreateOrderInput, EmailInput, ShipmentInput } from './types.js';

/** What the approval rules read; per task (see `OrderAgentInput.approvalLimit`). */
export interface OrderPolicy {
  /** Charges above this many minor units wait for a person's approval. */
  approvalLimit: number;
}

const reference = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/, 'letters, digits, _ or -, at most 64 characters');
const orderId = reference.describe('The business order ID this action is about, e.g. "ord_1001". Required.');
const customerId = reference.describe('The customer ID, e.g. "cust_42".');
const currency = z
  .string()
  .regex(/^[A-Za-z]{3}$/, 'a three-letter ISO currency code')
  .transform((c) => c.toLowerCase())
  .describe('ISO currency code, e.g. "usd".');
const amount = z.number().int('an integer number of minor units (cents)').positive().max(100_000_000);

const lookupCustomerInput = z.object({ customer_id: customerId });
const createOrderInput = z.object({
  order_id: orderId,
  customer_id: customerId,
  items: z
    .array(
      z.object({
        sku: z.string().min(1).max(64),
        quantity: z.number().int().positive().max(1000),
        unit_amount: z.number().int().nonnegative().describe('Unit price in minor units (cents).'),
      }),
    )
    .min(1),
  currency,
});
const chargePaymentInput = z.object({
  order_id: orderId,
  customer_id: customerId,
  amount: amount.describe('Amount in minor units (cents), e.g. 4999 for 49.99.'),
  currency,
  payment_method: z
    .string()
    .regex(/^pm_[A-Za-z0-9_]{1,100}$/, 'a payment method ID such as "pm_card_visa"')
    .optional()
    .describe('The payment method to charge; default the customer\'s card on file ("pm_card_visa").'),
  note: z.string().max(500).optional().describe('Free-text note for the record; not sent to the processor.'),
});
const refundPaymentInput = z.object({
  order_id: orderId,
  customer_id: customerId,
  reason: z.string().max(500).optional().describe('Why the refund is made (free text).'),
});
const sendEmailInput = z.object({
  order_id: orderId,
  to: z.email().describe('Recipient address.'),
  template: z
    .enum(['order_confirmation', 'order_update', 'order_cancelled', 'receipt'])
    .describe('Which message about the order this is.'),
  subject: z.string().min(1).max(200),
  body: z.string().min(1).max(10_000).describe('Plain-text body (free text).'),
});
const bookShipmentInput = z.object({
  order_id: orderId,
  address: z.object({
    name: z.string().min(1).max(200),
    line1: z.string().min(1).max(200),
    city: z.string().min(1).max(100),
    postal_code: z.string().min(1).max(20),
    country: z.string().regex(/^[A-Z]{2}$/, 'a two-letter ISO country code'),
  }),
});

export const lookupCustomer = defineTool({
  name: 'lookup_customer',
  description: 'Look up a customer by ID: name, email address and their recent orders. Read-only.',
  input: lookupCustomerInput,
  kind: 'read_only',
  activity: 'lookupCustomer',
  toActivityInput: (i) => ({ customerId: i.customer_id }),
  summary: (i) => `lookup ${i.customer_id}`,
});

export const createOrder = defineTool({
  name: 'create_order',
  description:
    'Create an order record for a customer. The order_id is the business reference: the same order_id always means the same order.',
  input: createOrderInput,
  kind: 'effect',
  activity: 'createOrder',
  toActivityInput: (i): CreateOrderInput => ({
    orderId: i.order_id,
    customerId: i.customer_id,
    items: i.items.map((it) => ({ sku: it.sku, quantity: it.quantity, unitAmount: it.unit_amount })),
    currency: i.currency,
  }),
  effect: { identity: ['orderId'], stable: ['customerId', 'items', 'currency'] },
  compensation: {
    activity: 'cancelOrder',
    undo: 'cancel the order row',
    input: (i) => ({ orderId: i.order_id }),
    personAction: (i) => `cancel order ${i.order_id} by hand`,
  },
  summary: (i) => `create order ${i.order_id} for ${i.customer_id}`,
});

export const chargePayment = defineTool({
  name: 'charge_payment',
  description:
    'Charge a customer for an order, in minor units. Charging the same order_id again returns the first charge instead of charging twice.',
  input: chargePaymentInput,
  kind: 'effect',
  activity: 'chargePayment',
  toActivityInput: (i): ChargeInput => ({
    orderId: i.order_id,
    customerId: i.customer_id,
    amount: i.amount,
    currency: i.currency,
    ...(i.payment_method ? { paymentMethod: i.payment_method } : {}),
  }),
  effect: { identity: ['orderId'], stable: ['customerId', 'amount', 'currency', 'paymentMethod'] },
  compensation: {
    activity: 'refundPayment',
    undo: 'refund the charge',
    input: (i, stepKey) => ({ orderId: i.order_id, customerId: i.customer_id, chargeKey: stepKey }),
    personAction: (i) =>
      `refund the payment of order ${i.order_id} for ${i.customer_id} in the payments dashboard`,
  },
  approval: (i, policy: OrderPolicy) =>
    i.amount > policy.approvalLimit
      ? `charge of ${i.amount} ${i.currency} exceeds the approval limit of ${policy.approvalLimit}`
      : undefined,
  summary: (i) => `charge ${i.customer_id} ${i.amount} ${i.currency}`,
});

export const refundPayment = defineTool({
  name: 'refund_payment',
  description: 'Refund the charge of an order in full. Refunding the same order again does nothing more.',
  input: refundPaymentInput,
  kind: 'effect',
  activity: 'refundPayment',
  undoes: chargePayment,
  toActivityInput: (i, ctx) => ({
    orderId: i.order_id,
    customerId: i.customer_id,
    chargeKey: ctx.keyOf(chargePayment, { orderId: i.order_id }),
  }),
  summary: (i) => `refund ${i.order_id}`,
});

export const sendEmail = defineTool({
  name: 'send_email',
  description:
    'Send an email about an order. The same template to the same recipient about the same order is sent once, however the body is worded.',
  input: sendEmailInput,
  kind: 'effect',
  activity: 'sendEmail',
  toActivityInput: (i): EmailInput => ({
    orderId: i.order_id,
    to: i.to,
    template: i.template,
    subject: i.subject,
    text: i.body,
  }),
  // No Stripe-style dedup downstream: after a crash the mailbox is asked (verify) before resending.
  effect: { identity: ['orderId', 'to', 'template'], recovery: 'verify', irreversible: true },
  compensation: {
    activity: 'sendCorrectionEmail',
    undo: 'send a correction email',
    input: (i, stepKey) => ({
      orderId: i.order_id,
      to: i.to,
      template: 'order_cancelled',
      subject: `Correction: order ${i.order_id} was cancelled`,
      text: `Please disregard our earlier message about order ${i.order_id}: the order was cancelled and any charge refunded.`,
      originalKey: stepKey,
    }),
    personAction: (i) => `tell ${i.to} that order ${i.order_id} was cancelled`,
    recovery: 'verify',
  },
  summary: (i) => `email ${i.to} ${i.template}`,
  // A relay may hold a message for longer than a local activity's 5 s (the pool's socket timeout is
  // 20 s), and a send still running past the claim's lease could overlap a verify-then-resend: as a
  // regular activity the lease is 35 s.
  execution: 'regular',
});

export const bookShipment = defineTool({
  name: 'book_shipment',
  description: 'Book the shipment of an order to an address.',
  input: bookShipmentInput,
  kind: 'effect',
  activity: 'bookShipment',
  toActivityInput: (i): ShipmentInput => ({
    orderId: i.order_id,
    address: {
      name: i.address.name,
      line1: i.address.line1,
      city: i.address.city,
      postalCode: i.address.postal_code,
      country: i.address.country,
    },
  }),
  effect: { identity: ['orderId'], stable: ['address'] },
  compensation: {
    activity: 'releaseShipment',
    undo: 'release the shipment',
    input: (i) => ({ orderId: i.order_id }),
    personAction: (i) => `cancel the shipment of order ${i.order_id} with the carrier`,
  },
  summary: (i) => `book shipment ${i.order_id}`,
});

/** Every tool the order agent may call, in the order the model sees them. */
export const ORDER_TOOLS: readonly Tool[] = [
  lookupCustomer,
  createOrder,
  chargePayment,
  refundPayment,
  sendEmail,
  bookShipment,
  abortTask,
];
