-- Payments sandbox closer to Stripe: charges behind payment intents (refunds are on the charge, as at
-- Stripe), the fields a payment intent and a refund always carry, and a creation order for cursors.

-- Creation order: `created` has one-second resolution, list cursors need a total order.
ALTER TABLE sandbox.customers ADD COLUMN seq bigserial;
ALTER TABLE sandbox.payment_intents ADD COLUMN seq bigserial;
ALTER TABLE sandbox.refunds ADD COLUMN seq bigserial;

ALTER TABLE sandbox.payment_intents
  ADD COLUMN client_secret      text,
  ADD COLUMN latest_charge      text,
  ADD COLUMN last_payment_error jsonb,
  ADD COLUMN canceled_at        bigint;
UPDATE sandbox.payment_intents SET client_secret = id || '_secret_migrated';
ALTER TABLE sandbox.payment_intents ALTER COLUMN client_secret SET NOT NULL;

-- One charge per confirmation attempt: `succeeded` (money moved) or `failed` (a decline).
CREATE TABLE sandbox.charges (
  id                  text PRIMARY KEY,
  payment_intent      text NOT NULL REFERENCES sandbox.payment_intents (id),
  amount              integer NOT NULL,
  amount_refunded     integer NOT NULL DEFAULT 0,
  currency            text NOT NULL,
  customer            text,
  payment_method      text,
  description         text,
  status              text NOT NULL CHECK (status IN ('succeeded', 'failed')),
  failure_code        text,
  failure_message     text,
  balance_transaction text,
  metadata            jsonb NOT NULL DEFAULT '{}'::jsonb,
  created             bigint NOT NULL,
  seq                 bigserial
);
CREATE INDEX charges_payment_intent ON sandbox.charges (payment_intent);

-- Existing succeeded intents get the charge they stand for; its refunded amount moves onto it.
INSERT INTO sandbox.charges
  (id, payment_intent, amount, amount_refunded, currency, customer, payment_method, description, status,
   balance_transaction, metadata, created)
SELECT 'ch_' || substr(pi.id, 4), pi.id, pi.amount_received, pi.amount_refunded, pi.currency, pi.customer,
       pi.payment_method, pi.description, 'succeeded', 'txn_' || substr(pi.id, 4), pi.metadata, pi.created
  FROM sandbox.payment_intents pi
 WHERE pi.status = 'succeeded';
UPDATE sandbox.payment_intents pi SET latest_charge = 'ch_' || substr(pi.id, 4) WHERE pi.status = 'succeeded';
ALTER TABLE sandbox.payment_intents DROP COLUMN amount_refunded;

ALTER TABLE sandbox.refunds
  ADD COLUMN charge              text REFERENCES sandbox.charges (id),
  ADD COLUMN currency            text,
  ADD COLUMN reason              text,
  ADD COLUMN balance_transaction text;
UPDATE sandbox.refunds r
   SET charge = pi.latest_charge, currency = pi.currency, balance_transaction = 'txn_' || substr(r.id, 4)
  FROM sandbox.payment_intents pi
 WHERE pi.id = r.payment_intent;
ALTER TABLE sandbox.refunds ALTER COLUMN currency SET NOT NULL;
