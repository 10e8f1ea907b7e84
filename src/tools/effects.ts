/**
 * The side effects onceflow performs, each with the fields that make its intent key (identity) and
 * the other fields that must match for a replay (stable). Free text (email bodies, notes) is in
 * neither, so a reworded retry is the same action. Pure data: workflows and activities both import it.
 */
import type { RecoveryPolicy } from '../idempotency/ledger.js';

/** How one side effect is keyed and recovered. */
export interface EffectSpec {
  /** Tool / operation name; part of the key. */
  tool: string;
  /** Fields naming *which* action this is (which order, which recipient): they make the key. */
  identityFields: readonly string[];
  /** Terms of the action that must not change under the same key (amount, currency): fingerprint only. */
  stableFields: readonly string[];
  /** What to do when an earlier attempt crashed with its outcome unknown. */
  recovery: RecoveryPolicy;
  /** True when the effect cannot be undone (an email): its compensation is a correcting action. */
  irreversible?: boolean;
}

/** The key material a workflow derives for one step and hands to its activity. */
export interface Intent {
  scope: string;
  key: string;
  fingerprint: string;
}

/** Activity input of a side effect: the derived intent plus the business input. */
export interface Keyed<T> {
  intent: Intent;
  input: T;
}

/** What a side-effecting activity returns: its result and whether the ledger executed or replayed it. */
export interface EffectResult<T> {
  outcome: 'executed' | 'replayed' | 'recovered';
  key: string;
  result: T;
}

export interface OrderItem {
  sku: string;
  quantity: number;
  /** Unit price in minor units. */
  unitAmount: number;
}

export interface CreateOrderInput {
  orderId: string;
  customerId: string;
  items: OrderItem[];
  currency: string;
}
export interface CreatedOrder {
  orderId: string;
  amount: number;
  currency: string;
  status: 'created';
}

export interface ChargeInput {
  orderId: string;
  customerId: string;
  /** Minor units (cents). */
  amount: number;
  currency: string;
  /** Stripe payment method; default `pm_card_visa`. */
  paymentMethod?: string;
}
export interface Charge {
  paymentIntentId: string;
  amount: number;
  currency: string;
  status: string;
}

export interface RefundInput {
  orderId: string;
  customerId: string;
  /** Key of the charge step being undone: finds the payment intent. */
  chargeKey: string;
  reason?: string;
}
export interface Refund {
  refundId: string | null;
  paymentIntentId: string | null;
  amount: number;
  status: 'refunded' | 'nothing_to_refund';
}

export interface ShipmentInput {
  orderId: string;
  address: { name: string; line1: string; city: string; postalCode: string; country: string };
}
export interface Shipment {
  shipmentId: string;
  orderId: string;
  status: 'booked';
}

export interface EmailInput {
  orderId: string;
  to: string;
  /** Which message this is about the order (`order_confirmation`, `order_cancelled`, …). */
  template: string;
  subject: string;
  text: string;
}
export interface CorrectionEmailInput extends EmailInput {
  /** Key of the email being corrected: no correction when it was never sent. */
  originalKey: string;
}
export interface SentEmail {
  messageId: string;
  accepted: string[];
}
export interface Correction {
  status: 'sent' | 'nothing_to_correct';
  messageId: string | null;
}

export interface UndoInput {
  orderId: string;
}
export interface Undone {
  undone: boolean;
}

/** The catalogue of side effects by tool name. */
export const EFFECTS = {
  create_order: {
    tool: 'create_order',
    identityFields: ['orderId'],
    stableFields: ['customerId', 'items', 'currency'],
    recovery: 'resume',
  },
  cancel_order: { tool: 'cancel_order', identityFields: ['orderId'], stableFields: [], recovery: 'resume' },
  charge_payment: {
    tool: 'charge_payment',
    identityFields: ['orderId'],
    stableFields: ['customerId', 'amount', 'currency', 'paymentMethod'],
    recovery: 'resume',
  },
  refund_payment: {
    tool: 'refund_payment',
    identityFields: ['orderId'],
    stableFields: ['customerId'],
    recovery: 'resume',
  },
  book_shipment: {
    tool: 'book_shipment',
    identityFields: ['orderId'],
    stableFields: ['address'],
    recovery: 'resume',
  },
  release_shipment: {
    tool: 'release_shipment',
    identityFields: ['orderId'],
    stableFields: [],
    recovery: 'resume',
  },
  send_email: {
    tool: 'send_email',
    identityFields: ['orderId', 'to', 'template'],
    stableFields: [],
    recovery: 'verify',
    irreversible: true,
  },
} as const satisfies Record<string, EffectSpec>;

export type EffectName = keyof typeof EFFECTS;
