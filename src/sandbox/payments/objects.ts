/**
 * Rows of the sandbox's payment tables and the Stripe objects they are answered as. Every field the
 * OpenAPI spec marks as always present is sent (null where the sandbox has nothing to say, as Stripe
 * does for unused features); bookkeeping columns such as `seq` never leave the sandbox.
 */

export interface CustomerRow {
  id: string;
  email: string | null;
  name: string | null;
  metadata: Record<string, string>;
  created: string;
}

export interface PaymentIntentRow {
  id: string;
  amount: number;
  amount_received: number;
  currency: string;
  customer: string | null;
  status: string;
  payment_method: string | null;
  description: string | null;
  metadata: Record<string, string>;
  created: string;
  client_secret: string;
  latest_charge: string | null;
  last_payment_error: Record<string, unknown> | null;
  canceled_at: string | null;
}

export interface ChargeRow {
  id: string;
  payment_intent: string;
  amount: number;
  amount_refunded: number;
  currency: string;
  customer: string | null;
  payment_method: string | null;
  description: string | null;
  status: 'succeeded' | 'failed';
  failure_code: string | null;
  failure_message: string | null;
  balance_transaction: string | null;
  metadata: Record<string, string>;
  created: string;
}

export interface RefundRow {
  id: string;
  payment_intent: string;
  charge: string | null;
  amount: number;
  currency: string;
  status: string;
  reason: string | null;
  balance_transaction: string | null;
  metadata: Record<string, string>;
  created: string;
  /** Of the refunded payment intent (joined in, see `REFUND_SELECT`). */
  customer: string | null;
  payment_method: string | null;
}

/** A Stripe object as JSON. */
export type StripeObject = Record<string, unknown>;

export function customerObject(row: CustomerRow): StripeObject {
  return {
    id: row.id,
    object: 'customer',
    address: null,
    balance: 0,
    created: Number(row.created),
    currency: null,
    default_source: null,
    delinquent: false,
    description: null,
    email: row.email,
    invoice_prefix: null,
    invoice_settings: {
      custom_fields: null,
      default_payment_method: null,
      footer: null,
      rendering_options: null,
    },
    livemode: false,
    metadata: row.metadata,
    name: row.name,
    phone: null,
    preferred_locales: [],
    shipping: null,
    tax_exempt: 'none',
    test_clock: null,
  };
}

export function paymentIntentObject(row: PaymentIntentRow): StripeObject {
  return {
    id: row.id,
    object: 'payment_intent',
    allowed_payment_method_types: null,
    amount: row.amount,
    amount_capturable: 0,
    amount_received: row.amount_received,
    application: null,
    application_fee_amount: null,
    automatic_payment_methods: null,
    canceled_at: row.canceled_at === null ? null : Number(row.canceled_at),
    cancellation_reason: null,
    capture_method: 'automatic_async',
    client_secret: row.client_secret,
    confirmation_method: 'automatic',
    created: Number(row.created),
    currency: row.currency,
    customer: row.customer,
    customer_account: null,
    description: row.description,
    excluded_payment_method_types: null,
    last_payment_error: row.last_payment_error,
    latest_charge: row.latest_charge,
    livemode: false,
    managed_payments: null,
    metadata: row.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: row.payment_method,
    payment_method_configuration_details: null,
    payment_method_options: null,
    payment_method_types: ['card'],
    payment_record: null,
    processing: null,
    receipt_email: null,
    review: null,
    setup_future_usage: null,
    shipping: null,
    source: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: row.status,
    transfer_group: null,
  };
}

const NO_ADDRESS = { city: null, country: null, line1: null, line2: null, postal_code: null, state: null };

export function chargeObject(row: ChargeRow): StripeObject {
  const paid = row.status === 'succeeded';
  return {
    id: row.id,
    object: 'charge',
    amount: row.amount,
    amount_captured: paid ? row.amount : 0,
    amount_refunded: row.amount_refunded,
    application: null,
    application_fee: null,
    application_fee_amount: null,
    balance_transaction: row.balance_transaction,
    billing_details: { address: NO_ADDRESS, email: null, name: null, phone: null, tax_id: null },
    calculated_statement_descriptor: 'ONCEFLOW SANDBOX',
    captured: paid,
    created: Number(row.created),
    currency: row.currency,
    customer: row.customer,
    description: row.description,
    disputed: false,
    failure_balance_transaction: null,
    failure_code: row.failure_code,
    failure_message: row.failure_message,
    fraud_details: {},
    livemode: false,
    metadata: row.metadata,
    on_behalf_of: null,
    outcome: null,
    paid,
    payment_intent: row.payment_intent,
    payment_method: row.payment_method,
    payment_method_details: null,
    receipt_email: null,
    receipt_number: null,
    receipt_url: null,
    refunded: paid && row.amount_refunded >= row.amount,
    review: null,
    shipping: null,
    source: null,
    source_transfer: null,
    statement_descriptor: null,
    statement_descriptor_suffix: null,
    status: row.status,
    transfer_data: null,
    transfer_group: null,
  };
}

export function refundObject(row: RefundRow): StripeObject {
  return {
    id: row.id,
    object: 'refund',
    amount: row.amount,
    balance_transaction: row.balance_transaction,
    charge: row.charge,
    created: Number(row.created),
    currency: row.currency,
    customer: row.customer,
    customer_account: null,
    metadata: row.metadata,
    payment_intent: row.payment_intent,
    payment_method: row.payment_method,
    reason: row.reason,
    receipt_number: null,
    source_transfer_reversal: null,
    status: row.status,
    transfer_reversal: null,
  };
}
