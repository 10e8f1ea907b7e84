import { randomUUID } from 'node:crypto';
import type nodemailer from 'nodemailer';
import type pg from 'pg';
import type Stripe from 'stripe';

/** The same downstream calls as the order saga, with no ledger, no keys, no saga: the baseline. */
export function createBareActivities(pool: pg.Pool, stripe: Stripe, mailer: nodemailer.Transporter) {
  return {
    async bareCreateOrder(input: { orderId: string; customerId: string; amount: number }) {
      await pool.query('INSERT INTO bench_bare_orders (order_id, customer_id, amount) VALUES ($1, $2, $3)', [
        input.orderId,
        input.customerId,
        input.amount,
      ]);
    },
    async bareCharge(input: { orderId: string; customerId: string; amount: number }) {
      const pi = await stripe.paymentIntents.create({
        amount: input.amount,
        currency: 'usd',
        confirm: true,
        payment_method: 'pm_card_visa',
        metadata: { order_id: input.orderId, customer_id: input.customerId },
      });
      return pi.id;
    },
    async bareBookShipment(input: { orderId: string }) {
      await pool.query('INSERT INTO bench_bare_shipments (shipment_id, order_id) VALUES ($1, $2)', [
        `shp_${randomUUID()}`,
        input.orderId,
      ]);
    },
    async bareSendEmail(input: { orderId: string; to: string }) {
      await mailer.sendMail({
        from: 'bench@onceflow.local',
        to: input.to,
        subject: `Order ${input.orderId}`,
        text: 'ok',
      });
    },
  };
}

export type BareActivities = ReturnType<typeof createBareActivities>;
