-- State of the sandbox services: they stand for the outside world, so they live in their own schema.
CREATE SCHEMA IF NOT EXISTS sandbox;

CREATE TABLE sandbox.customers (
  id         text PRIMARY KEY,
  email      text,
  name       text,
  metadata   jsonb NOT NULL DEFAULT '{}'::jsonb,
  created    bigint NOT NULL
);

CREATE TABLE sandbox.payment_intents (
  id              text PRIMARY KEY,
  amount          integer NOT NULL,
  amount_received integer NOT NULL DEFAULT 0,
  amount_refunded integer NOT NULL DEFAULT 0,
  currency        text NOT NULL,
  customer        text,
  status          text NOT NULL,
  payment_method  text,
  description     text,
  metadata        jsonb NOT NULL DEFAULT '{}'::jsonb,
  created         bigint NOT NULL
);
CREATE INDEX payment_intents_customer ON sandbox.payment_intents (customer);
CREATE INDEX payment_intents_metadata ON sandbox.payment_intents USING gin (metadata);

CREATE TABLE sandbox.refunds (
  id             text PRIMARY KEY,
  payment_intent text NOT NULL REFERENCES sandbox.payment_intents (id),
  amount         integer NOT NULL,
  status         text NOT NULL,
  metadata       jsonb NOT NULL DEFAULT '{}'::jsonb,
  created        bigint NOT NULL
);
CREATE INDEX refunds_payment_intent ON sandbox.refunds (payment_intent);

-- Stripe's idempotency: the first response for a key is saved and replayed for 24 hours.
CREATE TABLE sandbox.idempotency_keys (
  key             text PRIMARY KEY,
  request_hash    text NOT NULL,
  status          text NOT NULL CHECK (status IN ('in_progress', 'done')),
  response_status integer,
  response_body   jsonb,
  created_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE sandbox.emails (
  id          bigserial PRIMARY KEY,
  message_id  text,
  mail_from   text,
  rcpt_to     text[] NOT NULL,
  subject     text,
  text        text,
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX emails_message_id ON sandbox.emails (message_id);
CREATE INDEX emails_rcpt_to ON sandbox.emails USING gin (rcpt_to);
