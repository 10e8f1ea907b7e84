/** What confirming a payment intent with one of Stripe's test payment methods does. */
export type CardOutcome =
  { outcome: 'succeeded' } | { outcome: 'declined'; code: string; declineCode: string; message: string };

const DECLINED = 'Your card was declined.';
const declined = (declineCode: string, message = DECLINED, code = 'card_declined'): CardOutcome => ({
  outcome: 'declined',
  code,
  declineCode,
  message,
});

/**
 * The subset of Stripe's test payment methods (https://docs.stripe.com/testing) the sandbox knows.
 * Any other id is a payment method that does not exist, answered as Stripe answers it.
 */
export const TEST_PAYMENT_METHODS: Readonly<Record<string, CardOutcome>> = {
  pm_card_visa: { outcome: 'succeeded' },
  pm_card_visa_debit: { outcome: 'succeeded' },
  pm_card_mastercard: { outcome: 'succeeded' },
  pm_card_amex: { outcome: 'succeeded' },
  pm_card_chargeDeclined: declined('generic_decline'),
  pm_card_chargeDeclinedInsufficientFunds: declined(
    'insufficient_funds',
    'Your card has insufficient funds.',
  ),
  pm_card_chargeDeclinedLostCard: declined('lost_card'),
  pm_card_chargeDeclinedStolenCard: declined('stolen_card'),
  pm_card_chargeDeclinedExpiredCard: declined('expired_card', 'Your card has expired.', 'expired_card'),
  pm_card_chargeDeclinedIncorrectCvc: declined(
    'incorrect_cvc',
    "Your card's security code is incorrect.",
    'incorrect_cvc',
  ),
  pm_card_chargeDeclinedProcessingError: declined(
    'processing_error',
    'An error occurred while processing your card. Try again in a little bit.',
    'processing_error',
  ),
};
