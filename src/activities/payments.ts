import Stripe from 'stripe';
import { BusinessError, IdempotencyKeyReusedError, KeyInUseError } from '../idempotency/errors.js';
import type { Ledger } from '../idempotency/ledger.js';
import type { Charge, ChargeInput, EffectResult, Keyed, Refund, RefundInput } from '../tools/effects.js';
import { runEffect } from './effect.js';

/**
 * Maps Stripe's errors to retryable (thrown as-is: the ledger releases the claim, Temporal retries
 * with the same Idempotency-Key) or terminal ({@link BusinessError}, stored and replayed).
 */
function mapStripeError(err: unknown, intentKey: string): unknown {
  if (!(err instanceof Stripe.errors.StripeError)) return err;
  if (err instanceof Stripe.errors.StripeCardError) {
    return new BusinessError('CARD_DECLINED', err.message, { declineCode: err.decline_code ?? null });
  }
  if (err instanceof Stripe.errors.StripeIdempotencyError) {
    // Our ledger saw the same fingerprint, yet Stripe saw other parameters under this key.
    return new IdempotencyKeyReusedError(intentKey, 'stripe', 'this request');
  }
  const status = err.statusCode ?? 0;
  if (
    status === 409 ||
    status === 429 ||
    status >= 500 ||
    err instanceof Stripe.errors.StripeConnectionError
  ) {
    return err;
  }
  if (status >= 400)
    return new BusinessError('PAYMENT_REJECTED', err.message, { stripeCode: err.code ?? null });
  return err;
}

/** Activities against the payments API (Stripe or the sandbox), through the official SDK. */
export function createPaymentsActivities(stripe: Stripe, ledger: Ledger) {
  async function findPaymentIntent(chargeKey: string): Promise<string | null> {
    const row = await ledger.get(chargeKey);
    const stored = row?.status === 'succeeded' ? (row.response as Charge | null) : null;
    if (stored?.paymentIntentId) return stored.paymentIntentId;
    if (!row) return null; // every charge is claimed before Stripe is called: no row, no charge
    if (row.status === 'in_progress' && row.leaseExpiresAt && row.leaseExpiresAt.getTime() > Date.now()) {
      // A charge attempt may still be talking to Stripe: refunding now could miss it. Retry later.
      throw new KeyInUseError(chargeKey, row.leaseExpiresAt);
    }
    // The charge's outcome is unknown (crashed, or released after a dropped response): ask Stripe.
    const found = await stripe.paymentIntents.search({ query: `metadata['onceflow_key']:'${chargeKey}'` });
    return found.data[0]?.id ?? null;
  }

  return {
    /**
     * Charges a customer for an order: a confirmed PaymentIntent created with `Idempotency-Key` = the
     * intent key. Only stable fields go to Stripe, so a reworded retry sends identical parameters.
     * Recovery `resume`: after a crash the same key is sent again and Stripe replays its first answer.
     */
    async chargePayment({ intent, input }: Keyed<ChargeInput>): Promise<EffectResult<Charge>> {
      return runEffect(ledger, 'charge_payment', intent, { recovery: 'resume' }, async () => {
        try {
          const pi = await stripe.paymentIntents.create(
            {
              amount: input.amount,
              currency: input.currency.toLowerCase(),
              confirm: true,
              payment_method: input.paymentMethod ?? 'pm_card_visa',
              description: `Order ${input.orderId}`,
              metadata: { order_id: input.orderId, customer_id: input.customerId, onceflow_key: intent.key },
            },
            { idempotencyKey: intent.key },
          );
          return { paymentIntentId: pi.id, amount: pi.amount, currency: pi.currency, status: pi.status };
        } catch (err) {
          throw mapStripeError(err, intent.key);
        }
      });
    },

    /**
     * Compensation of chargePayment: refunds what the charge took. A charge that never happened is
     * nothing to undo; an already refunded one is replayed from the ledger or Stripe's key.
     */
    async refundPayment({ intent, input }: Keyed<RefundInput>): Promise<EffectResult<Refund>> {
      return runEffect(ledger, 'refund_payment', intent, { recovery: 'resume' }, async () => {
        try {
          const paymentIntentId = await findPaymentIntent(input.chargeKey);
          if (!paymentIntentId) {
            return { refundId: null, paymentIntentId: null, amount: 0, status: 'nothing_to_refund' as const };
          }
          const refund = await stripe.refunds.create(
            {
              payment_intent: paymentIntentId,
              metadata: { order_id: input.orderId, customer_id: input.customerId, onceflow_key: intent.key },
            },
            { idempotencyKey: intent.key },
          );
          return { refundId: refund.id, paymentIntentId, amount: refund.amount, status: 'refunded' as const };
        } catch (err) {
          // Refunded already (an explicit refund_payment before the saga undid the charge): nothing left to undo.
          if (
            err instanceof Stripe.errors.StripeInvalidRequestError &&
            err.code === 'charge_already_refunded'
          ) {
            return { refundId: null, paymentIntentId: null, amount: 0, status: 'nothing_to_refund' as const };
          }
          throw mapStripeError(err, intent.key);
        }
      });
    },
  };
}

export type PaymentsActivities = ReturnType<typeof createPaymentsActivities>;
