import Stripe from 'stripe';
import {
  BusinessError,
  effect,
  IdempotencyKeyReusedError,
  undoing,
  type EffectResult,
  type Keyed,
} from 'onceflow/activity';
import type { Charge, ChargeInput, Refund, RefundInput } from '../types.js';

/**
 * Maps Stripe's errors to retryable (thrown as-is: the ledger releases the claim, Temporal retries
 * with the same Idempotency-Key) or terminal ({@link BusinessError}, stored and replayed).
 */
function mapStripeError(err: unknown, intentKey: string): unknown {
  if (!(err instanceof Stripe.errors.StripeError)) return err;
  if (err instanceof Stripe.errors.StripeCardError) {
    return new BusinessError('CARD_DECLINED', err.message, {
      ...stripeTerms(err),
      decline_code: err.decline_code ?? null,
      payment_intent: err.payment_intent?.id ?? null,
    });
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
  if (status >= 400) return new BusinessError('PAYMENT_REJECTED', err.message, stripeTerms(err));
  return err;
}

/** What Stripe says of a refusal, in its own words, for the caller (and the model) to decide on. */
function stripeTerms(err: Stripe.errors.StripeError) {
  return {
    type: err.type,
    code: err.code ?? null,
    param: err.param ?? null,
    doc_url: err.doc_url ?? null,
    status: err.statusCode ?? null,
  };
}

const nothingToRefund = (): Refund => ({
  refundId: null,
  paymentIntentId: null,
  amount: 0,
  status: 'nothing_to_refund',
});

/** Activities against the payments API (Stripe or the sandbox), through the official SDK. */
export function createPaymentsActivities(stripe: Stripe) {
  /** The charge's outcome is unknown (crashed, or released after a dropped response): ask Stripe. */
  async function searchCharge(chargeKey: string): Promise<string | null> {
    const found = await stripe.paymentIntents.search({ query: `metadata['onceflow_key']:'${chargeKey}'` });
    return found.data.find((pi) => pi.status === 'succeeded')?.id ?? null;
  }

  return {
    /**
     * Charges a customer for an order: a confirmed PaymentIntent created with `Idempotency-Key` = the
     * intent key. Only stable fields go to Stripe, so a reworded retry sends identical parameters.
     * The tool's recovery `resume`: after a crash the same key is sent again and Stripe replays its
     * first answer.
     */
    async chargePayment({ intent, input }: Keyed<ChargeInput>): Promise<EffectResult<Charge>> {
      return effect(intent, async () => {
        try {
          const pi = await stripe.paymentIntents.create(
            {
              amount: input.amount,
              currency: input.currency.toLowerCase(),
              confirm: true,
              payment_method: input.paymentMethod ?? 'pm_card_visa',
              // Confirmed server-side with no customer to redirect: without this, API versions that
              // enable automatic payment methods refuse `confirm: true` without a return_url.
              automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
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
     * Refunds what the charge `input.chargeKey` took (the compensation of chargePayment, and the
     * refund_payment tool). It reads the charge's recorded outcome first: a charge that never took
     * effect (declined, never attempted) is nothing to refund and Stripe is not called; a recorded
     * charge is refunded by its payment intent; an unknown one is looked up in Stripe by its key.
     */
    async refundPayment({ intent, input }: Keyed<RefundInput>): Promise<EffectResult<Refund>> {
      const refund = undoing(intent, nothingToRefund, async (charge): Promise<Refund> => {
        try {
          const paymentIntentId =
            charge.status === 'performed'
              ? (charge.result as Charge).paymentIntentId
              : await searchCharge(input.chargeKey);
          if (!paymentIntentId) return nothingToRefund();
          const created = await stripe.refunds.create(
            {
              payment_intent: paymentIntentId,
              metadata: { order_id: input.orderId, customer_id: input.customerId, onceflow_key: intent.key },
            },
            { idempotencyKey: intent.key },
          );
          return { refundId: created.id, paymentIntentId, amount: created.amount, status: 'refunded' };
        } catch (err) {
          // Refunded already (an explicit refund_payment before the saga undid the charge): nothing left to undo.
          if (
            err instanceof Stripe.errors.StripeInvalidRequestError &&
            err.code === 'charge_already_refunded'
          ) {
            return nothingToRefund();
          }
          throw mapStripeError(err, intent.key);
        }
      });
      return effect(intent, () => refund());
    },
  };
}

export type PaymentsActivities = ReturnType<typeof createPaymentsActivities>;
