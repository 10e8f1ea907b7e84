-- The idempotency ledger (DESIGN "The ledger"): one row per intent key, written by src/idempotency/ledger.ts.
CREATE TABLE idempotency_ledger (
  key                   text        PRIMARY KEY,
  scope                 text        NOT NULL,
  operation             text        NOT NULL,
  fingerprint           text        NOT NULL,
  status                text        NOT NULL CHECK (status IN ('in_progress', 'succeeded', 'failed')),
  -- {"v": result} so that an undefined result replays as undefined; NULL until succeeded.
  response              jsonb,
  -- failed: the stored business error {code, message, details}; in_progress: why the last attempt stopped.
  error                 jsonb,
  -- in_progress only: the claim. NULL owner and expiry = released by a transient error, free to claim.
  lease_owner           text,
  lease_expires_at      timestamptz,
  attempts              integer     NOT NULL DEFAULT 1,
  -- Set when the outcome is unknown (recovery 'escalate', or verify undecided): for a person.
  needs_attention       boolean     NOT NULL DEFAULT false,
  -- The recovery policy last applied to an expired lease (a crashed attempt).
  recovered_by          text        CHECK (recovered_by IN ('resume', 'verify', 'escalate')),
  -- Who produced the terminal state: the perform itself or a verify that found the effect.
  completed_by          text        CHECK (completed_by IN ('perform', 'verify')),
  -- Requests that did not perform, flushed in batches (not on the replay path itself).
  replays               integer     NOT NULL DEFAULT 0,
  conflicts             integer     NOT NULL DEFAULT 0,
  in_flight_rejections  integer     NOT NULL DEFAULT 0,
  created_at            timestamptz NOT NULL,
  completed_at          timestamptz,
  expires_at            timestamptz NOT NULL
) WITH (fillfactor = 90);

CREATE INDEX idempotency_ledger_scope ON idempotency_ledger (scope);
CREATE INDEX idempotency_ledger_expires_at ON idempotency_ledger (expires_at);
CREATE INDEX idempotency_ledger_needs_attention ON idempotency_ledger (created_at) WHERE needs_attention;
