import type pg from 'pg';
import {
  chargeObject,
  customerObject,
  paymentIntentObject,
  refundObject,
  type ChargeRow,
  type CustomerRow,
  type PaymentIntentRow,
  type RefundRow,
  type StripeObject,
} from './objects.js';

/** One kind of stored object: its table (aliased `t`), select list and public form. */
export interface Kind<Row> {
  /** Stripe's name, as in `No such <name>: 'id'`. */
  name: string;
  from: string;
  select: string;
  toObject: (row: Row) => StripeObject;
}

export const CUSTOMERS: Kind<CustomerRow> = {
  name: 'customer',
  from: 'sandbox.customers t',
  select: 't.*',
  toObject: customerObject,
};

export const PAYMENT_INTENTS: Kind<PaymentIntentRow> = {
  name: 'payment_intent',
  from: 'sandbox.payment_intents t',
  select: 't.*',
  toObject: paymentIntentObject,
};

export const CHARGES: Kind<ChargeRow> = {
  name: 'charge',
  from: 'sandbox.charges t',
  select: 't.*',
  toObject: chargeObject,
};

/** A refund's customer and payment method are its payment intent's. */
export const REFUNDS: Kind<RefundRow> = {
  name: 'refund',
  from: 'sandbox.refunds t JOIN sandbox.payment_intents pi ON pi.id = t.payment_intent',
  select: 't.*, pi.customer, pi.payment_method',
  toObject: refundObject,
};

/** The row with this id, or undefined. `forUpdate` locks it for the rest of the transaction. */
export async function findRow<Row extends pg.QueryResultRow>(
  client: pg.PoolClient,
  kind: Kind<Row>,
  id: string,
  forUpdate = false,
): Promise<Row | undefined> {
  const lock = forUpdate ? ' FOR UPDATE OF t' : '';
  const { rows } = await client.query<Row>(`SELECT ${kind.select} FROM ${kind.from} WHERE t.id = $1${lock}`, [
    id,
  ]);
  return rows[0];
}
