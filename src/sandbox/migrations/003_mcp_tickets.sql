-- The ticket desk behind the sandbox MCP server (src/sandbox/mcp.ts): tickets, the intent keys it
-- honours, and a log of every tools/call so tests can count effects.

-- `ticket_ref` is the caller's business reference, deliberately not unique: a plain downstream
-- creates a second ticket when called twice without an intent key, which is what tests must catch.
CREATE TABLE sandbox.mcp_tickets (
  id          text PRIMARY KEY,
  ticket_ref  text NOT NULL,
  customer_id text NOT NULL,
  subject     text NOT NULL,
  body        text,
  priority    text,
  status      text NOT NULL CHECK (status IN ('open', 'deleted')),
  created_at  timestamptz NOT NULL DEFAULT now(),
  deleted_at  timestamptz
);
CREATE INDEX mcp_tickets_customer ON sandbox.mcp_tickets (customer_id);
CREATE INDEX mcp_tickets_ref ON sandbox.mcp_tickets (ticket_ref);

-- Idempotency-Key semantics for `_meta["dev.onceflow/intent-key"]`: the first result of a key is
-- stored in the transaction of its effect and replayed to a later call with the same fingerprint.
CREATE TABLE sandbox.mcp_intents (
  intent_key  text PRIMARY KEY,
  fingerprint text NOT NULL,
  status      text NOT NULL CHECK (status IN ('in_progress', 'done')),
  result      jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- One row per tools/call whatever its outcome; an `effect` row commits with the effect itself.
CREATE TABLE sandbox.mcp_calls (
  id          bigserial PRIMARY KEY,
  tool        text NOT NULL,
  arguments   jsonb,
  intent_key  text,
  outcome     text NOT NULL,
  ticket_id   text,
  fault       text,
  transport   text NOT NULL,
  session_id  text,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX mcp_calls_intent_key ON sandbox.mcp_calls (intent_key);
CREATE INDEX mcp_calls_ticket ON sandbox.mcp_calls (ticket_id);
