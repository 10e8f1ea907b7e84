/** The order domain's activity inputs and results. */

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
