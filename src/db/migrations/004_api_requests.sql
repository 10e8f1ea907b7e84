-- POST /tasks idempotency: the first request body seen for an Idempotency-Key (or taskId).
CREATE TABLE api_requests (
  key          text PRIMARY KEY,
  fingerprint  text        NOT NULL,
  workflow_id  text        NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now()
);
