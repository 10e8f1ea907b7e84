-- A key whose task started is answered, never started again: even once Temporal no longer has the
-- workflow (retention), the key still says which run it started.
ALTER TABLE api_requests
  ADD COLUMN started      boolean NOT NULL DEFAULT false,
  ADD COLUMN first_run_id text;
-- Keys recorded before this migration were started with their request (their run is unknown).
UPDATE api_requests SET started = true;
