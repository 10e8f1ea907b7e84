/**
 * The agent's tool catalogue: for each tool its input schema (zod, sent to the model as JSON Schema),
 * description, kind, how it is keyed, its compensation, its approval rule and the activity behind it.
 * Pure data and zod: imported by the agent workflow.
 */
import { z } from 'zod';
import { EFFECTS, type EffectSpec, type Intent } from './effects.js';
import type { ToolSchema } from './messages.js';

export type ToolKind = 'read_only' | 'side_effecting' | 'control';

/** Policy values the approval rules read; set per task. */
export interface ToolPolicy {
  /** Charges above this many minor units wait for a person's approval. */
  approvalLimit: number;
}

/** Helpers a tool's input mapping may use. */
export interface ToolContext {
  /** The key the given effect would have for this identity input in this task. */
  keyOf: (effect: EffectSpec, input: object) => string;
}

/** One tool. `Input` is the validated model input. */
export interface ToolDefinition<Input = Record<string, unknown>> {
  name: string;
  description: string;
  schema: z.ZodType<Input>;
  kind: ToolKind;
  /** The activity that performs it (read-only and side-effecting tools). */
  activity?: string;
  /** Side-effecting tools: how the intent key and fingerprint are derived. */
  effect?: EffectSpec;
  /**
   * Set on a tool that is the inverse of another effect (a refund of a charge): its intent is that
   * effect's compensation intent (`<effect key>:undo`, fingerprint of the activity input), the same
   * one the saga's compensation uses. So a refund the model asks for and the saga's refund are one
   * intent, done once, and the ledger knows the charge was undone.
   */
  undoes?: EffectSpec;
  /** Maps the model's input to the activity's input (the fields the key is derived from). */
  toActivityInput?: (input: Input, ctx: ToolContext) => object;
  /** How to undo it; absent for tools with nothing to undo. */
  compensation?: {
    activity: string;
    undo: string;
    input: (input: Input, stepKey: string) => object;
    personAction: (input: Input) => string;
  };
  irreversible?: boolean;
  /** Returns why a person must approve this call, or undefined when no approval is needed. */
  approval?: (input: Input, policy: ToolPolicy) => string | undefined;
  /** One line for activity summaries and logs. */
  summarize: (input: Input) => string;
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

const lookupCustomer = z.object({ customer_id: customerId });
const createOrder = z.object({
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
const chargePayment = z.object({
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
const refundPayment = z.object({
  order_id: orderId,
  customer_id: customerId,
  reason: z.string().max(500).optional().describe('Why the refund is made (free text).'),
});
const sendEmail = z.object({
  order_id: orderId,
  to: z.email().describe('Recipient address.'),
  template: z
    .enum(['order_confirmation', 'order_update', 'order_cancelled', 'receipt'])
    .describe('Which message about the order this is.'),
  subject: z.string().min(1).max(200),
  body: z.string().min(1).max(10_000).describe('Plain-text body (free text).'),
});
const bookShipment = z.object({
  order_id: orderId,
  address: z.object({
    name: z.string().min(1).max(200),
    line1: z.string().min(1).max(200),
    city: z.string().min(1).max(100),
    postal_code: z.string().min(1).max(20),
    country: z.string().regex(/^[A-Z]{2}$/, 'a two-letter ISO country code'),
  }),
});
const abortTask = z.object({ reason: z.string().min(1).max(1000) });

type In<S extends z.ZodType> = z.output<S>;

function tool<S extends z.ZodType>(def: ToolDefinition<In<S>> & { schema: S }): ToolDefinition {
  return def as unknown as ToolDefinition;
}

/** Every tool the agent may call, by name. */
export const TOOLS: Record<string, ToolDefinition> = Object.fromEntries(
  [
    tool({
      name: 'lookup_customer',
      description: 'Look up a customer by ID: name, email address and their recent orders. Read-only.',
      schema: lookupCustomer,
      kind: 'read_only',
      activity: 'lookupCustomer',
      toActivityInput: (i) => ({ customerId: i.customer_id }),
      summarize: (i) => `lookup ${i.customer_id}`,
    }),
    tool({
      name: 'create_order',
      description:
        'Create an order record for a customer. The order_id is the business reference: the same order_id always means the same order.',
      schema: createOrder,
      kind: 'side_effecting',
      activity: 'createOrder',
      effect: EFFECTS.create_order,
      toActivityInput: (i) => ({
        orderId: i.order_id,
        customerId: i.customer_id,
        items: i.items.map((it) => ({ sku: it.sku, quantity: it.quantity, unitAmount: it.unit_amount })),
        currency: i.currency,
      }),
      compensation: {
        activity: 'cancelOrder',
        undo: 'cancel the order row',
        input: (i) => ({ orderId: i.order_id }),
        personAction: (i) => `cancel order ${i.order_id} by hand`,
      },
      summarize: (i) => `create order ${i.order_id} for ${i.customer_id}`,
    }),
    tool({
      name: 'charge_payment',
      description:
        'Charge a customer for an order, in minor units. Charging the same order_id again returns the first charge instead of charging twice.',
      schema: chargePayment,
      kind: 'side_effecting',
      activity: 'chargePayment',
      effect: EFFECTS.charge_payment,
      toActivityInput: (i) => ({
        orderId: i.order_id,
        customerId: i.customer_id,
        amount: i.amount,
        currency: i.currency,
        ...(i.payment_method ? { paymentMethod: i.payment_method } : {}),
      }),
      compensation: {
        activity: 'refundPayment',
        undo: 'refund the charge',
        input: (i, stepKey) => ({ orderId: i.order_id, customerId: i.customer_id, chargeKey: stepKey }),
        personAction: (i) =>
          `refund the payment of order ${i.order_id} for ${i.customer_id} in the payments dashboard`,
      },
      approval: (i, policy) =>
        i.amount > policy.approvalLimit
          ? `charge of ${i.amount} ${i.currency} exceeds the approval limit of ${policy.approvalLimit}`
          : undefined,
      summarize: (i) => `charge ${i.customer_id} ${i.amount} ${i.currency}`,
    }),
    tool({
      name: 'refund_payment',
      description: 'Refund the charge of an order in full. Refunding the same order again does nothing more.',
      schema: refundPayment,
      kind: 'side_effecting',
      activity: 'refundPayment',
      effect: EFFECTS.refund_payment,
      undoes: EFFECTS.charge_payment,
      toActivityInput: (i, ctx) => ({
        orderId: i.order_id,
        customerId: i.customer_id,
        chargeKey: ctx.keyOf(EFFECTS.charge_payment, { orderId: i.order_id }),
      }),
      summarize: (i) => `refund ${i.order_id}`,
    }),
    tool({
      name: 'send_email',
      description:
        'Send an email about an order. The same template to the same recipient about the same order is sent once, however the body is worded.',
      schema: sendEmail,
      kind: 'side_effecting',
      activity: 'sendEmail',
      effect: EFFECTS.send_email,
      irreversible: true,
      toActivityInput: (i) => ({
        orderId: i.order_id,
        to: i.to,
        template: i.template,
        subject: i.subject,
        text: i.body,
      }),
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
      },
      summarize: (i) => `email ${i.to} ${i.template}`,
    }),
    tool({
      name: 'book_shipment',
      description: 'Book the shipment of an order to an address.',
      schema: bookShipment,
      kind: 'side_effecting',
      activity: 'bookShipment',
      effect: EFFECTS.book_shipment,
      toActivityInput: (i) => ({
        orderId: i.order_id,
        address: {
          name: i.address.name,
          line1: i.address.line1,
          city: i.address.city,
          postalCode: i.address.postal_code,
          country: i.address.country,
        },
      }),
      compensation: {
        activity: 'releaseShipment',
        undo: 'release the shipment',
        input: (i) => ({ orderId: i.order_id }),
        personAction: (i) => `cancel the shipment of order ${i.order_id} with the carrier`,
      },
      summarize: (i) => `book shipment ${i.order_id}`,
    }),
    tool({
      name: 'abort_task',
      description:
        'Give up on the task: everything done so far is undone (refunds, cancellations, corrections). Use when the task cannot be completed.',
      schema: abortTask,
      kind: 'control',
      summarize: (i) => `abort: ${i.reason}`,
    }),
  ].map((t) => [t.name, t]),
);

/** The tool definitions sent to the model. */
export function toolSchemas(): ToolSchema[] {
  return Object.values(TOOLS).map((t) => {
    const { $schema: _ignored, ...schema } = z.toJSONSchema(t.schema, { io: 'input' }) as Record<
      string,
      unknown
    >;
    return { name: t.name, description: t.description, input_schema: schema };
  });
}

/** A zod error as one line the model can act on: `amount: expected an integer; to: invalid email`. */
export function formatIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length ? issue.path.join('.') : '(input)'}: ${issue.message}`)
    .join('; ');
}

export type { Intent };
