import type pg from 'pg';
import { invalid, missing, StripeFailure } from './errors.js';
import { expand } from './expand.js';
import { LIST_PARAMS, listPage } from './lists.js';
import type { ChargeRow, RefundRow } from './objects.js';
import { expandPaths, int, metadata, onlyKnown, str, type Params } from './params.js';
import { newId, now, type Route } from './route.js';
import { CHARGES, findRow, PAYMENT_INTENTS, REFUNDS } from './store.js';

const REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'];

/** A state error: execution began, so Stripe stores the answer under the Idempotency-Key. */
const refused = (message: string, code?: string, param?: string) =>
  new StripeFailure(
    400,
    { type: 'invalid_request_error', message, ...(code ? { code } : {}), ...(param ? { param } : {}) },
    true,
  );

/** The charge a refund request is for: `charge`, or the payment intent's latest charge. Locked. */
async function chargeToRefund(params: Params, client: pg.PoolClient): Promise<ChargeRow> {
  const piId = str(params, 'payment_intent');
  const chargeId = str(params, 'charge');
  if (piId === undefined && chargeId === undefined) {
    throw invalid(
      'One of the following params should be provided for this request: payment_intent or charge.',
    );
  }
  let charge: ChargeRow | undefined;
  if (piId !== undefined) {
    const pi = await findRow(client, PAYMENT_INTENTS, piId, true);
    if (!pi) throw missing('payment_intent', piId, 'payment_intent', 'param');
    const latest = pi.latest_charge ? await findRow(client, CHARGES, pi.latest_charge, true) : undefined;
    if (pi.status !== 'succeeded' || latest?.status !== 'succeeded') {
      throw refused(
        `This PaymentIntent (${pi.id}) does not have a successful charge to refund.`,
        undefined,
        'payment_intent',
      );
    }
    charge = latest;
  }
  if (chargeId !== undefined) {
    const byId = await findRow(client, CHARGES, chargeId, true);
    if (!byId) throw missing('charge', chargeId, 'charge', 'param');
    if (charge && charge.id !== byId.id) {
      throw invalid(`Charge ${chargeId} does not belong to PaymentIntent ${piId ?? ''}.`, 'charge');
    }
    if (byId.status !== 'succeeded')
      throw refused(`Charge ${chargeId} has no successful payment to refund.`, undefined, 'charge');
    charge = byId;
  }
  return charge!;
}

/** `/v1/refunds`: create (on a payment intent's charge or a charge), retrieve, list. */
export const refundRoutes: Route[] = [
  {
    method: 'POST',
    pattern: /^\/v1\/refunds$/,
    mutates: true,
    handle: async ({ params, client }) => {
      onlyKnown(params, ['payment_intent', 'charge', 'amount', 'reason', 'metadata', 'expand']);
      const reason = str(params, 'reason') ?? null;
      if (reason !== null && !REASONS.includes(reason)) {
        throw invalid(`Invalid reason: must be one of ${REASONS.join(', ')}`, 'reason', 'parameter_invalid');
      }
      const requested = int(params, 'amount');
      const meta = metadata(params);
      const paths = expandPaths(params);
      const charge = await chargeToRefund(params, client);
      const refundable = charge.amount - charge.amount_refunded;
      if (refundable <= 0)
        throw refused(`Charge ${charge.id} has already been refunded.`, 'charge_already_refunded');
      const amount = requested ?? refundable;
      if (amount > refundable) {
        throw refused(
          `Refund amount (${amount}) is greater than unrefunded amount on charge (${refundable})`,
          'amount_too_large',
          'amount',
        );
      }
      const pi = (await findRow(client, PAYMENT_INTENTS, charge.payment_intent))!;
      const row: RefundRow = {
        id: newId('re'),
        payment_intent: charge.payment_intent,
        charge: charge.id,
        amount,
        currency: charge.currency,
        status: 'succeeded',
        reason,
        balance_transaction: newId('txn'),
        metadata: meta,
        created: String(now()),
        customer: pi.customer,
        payment_method: charge.payment_method,
      };
      await client.query(
        `INSERT INTO sandbox.refunds (id, payment_intent, charge, amount, currency, status, reason, balance_transaction, metadata, created)
         VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
        [
          row.id,
          row.payment_intent,
          row.charge,
          row.amount,
          row.currency,
          row.status,
          row.reason,
          row.balance_transaction,
          JSON.stringify(row.metadata),
          row.created,
        ],
      );
      await client.query('UPDATE sandbox.charges SET amount_refunded = amount_refunded + $2 WHERE id = $1', [
        charge.id,
        amount,
      ]);
      return expand(client, REFUNDS.toObject(row), paths);
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/refunds\/([^/]+)$/,
    mutates: false,
    handle: async ({ params, client, pathId = '' }) => {
      onlyKnown(params, ['expand']);
      const row = await findRow(client, REFUNDS, pathId);
      if (!row) throw missing('refund', pathId, 'id', 'path');
      return expand(client, REFUNDS.toObject(row), expandPaths(params));
    },
  },
  {
    method: 'GET',
    pattern: /^\/v1\/refunds$/,
    mutates: false,
    handle: async ({ params, client }) => {
      onlyKnown(params, [...LIST_PARAMS, 'payment_intent', 'charge']);
      const where: string[] = [];
      const values: unknown[] = [];
      for (const name of ['payment_intent', 'charge'] as const) {
        const value = str(params, name);
        if (value === undefined) continue;
        values.push(value);
        where.push(`t.${name} = $${values.length}`);
      }
      return listPage(client, REFUNDS, params, '/v1/refunds', { where, values });
    },
  },
];
