-- Our own business tables. Each row written by a side-effecting step carries the intent key in a
-- unique column and is written in the same transaction as its ledger row (exactly once).
CREATE TABLE customers (
  customer_id text PRIMARY KEY,
  name        text        NOT NULL,
  email       text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE orders (
  order_id        text PRIMARY KEY,
  task_id         text        NOT NULL,
  customer_id     text        NOT NULL,
  items           jsonb       NOT NULL,
  amount          integer     NOT NULL CHECK (amount >= 0),
  currency        text        NOT NULL,
  status          text        NOT NULL CHECK (status IN ('created', 'cancelled')),
  idempotency_key text        NOT NULL UNIQUE,
  cancel_key      text        UNIQUE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer ON orders (customer_id);
CREATE INDEX orders_task ON orders (task_id);

CREATE TABLE shipments (
  shipment_id     text PRIMARY KEY,
  order_id        text        NOT NULL,
  task_id         text        NOT NULL,
  address         jsonb       NOT NULL,
  status          text        NOT NULL CHECK (status IN ('booked', 'released')),
  idempotency_key text        NOT NULL UNIQUE,
  release_key     text        UNIQUE,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX shipments_order ON shipments (order_id);
