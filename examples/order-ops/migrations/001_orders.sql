-- The order example's business tables (applied by migrateOrderTables, recorded in order_ops_migrations).
-- Each row written by a side-effecting step carries the intent key in a unique column and is written in
-- the same transaction as its ledger row (exactly once). IF NOT EXISTS: databases migrated before the
-- tables left the engine already hold them (as the engine's 003_orders.sql).
CREATE TABLE IF NOT EXISTS customers (
  customer_id text PRIMARY KEY,
  name        text        NOT NULL,
  email       text        NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS orders (
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
CREATE INDEX IF NOT EXISTS orders_customer ON orders (customer_id);
CREATE INDEX IF NOT EXISTS orders_task ON orders (task_id);

CREATE TABLE IF NOT EXISTS shipments (
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
CREATE INDEX IF NOT EXISTS shipments_order ON shipments (order_id);
