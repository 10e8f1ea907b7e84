-- How to undo an effect if the task that made it loses track of it: set for effects run as local
-- activities with a compensation. A local activity's result reaches history only when its workflow
-- task completes; when that task fails and the re-execution takes another path, the saga finds the
-- effect here (by scope, not among its own steps) and undoes it with the rest. JSON, written at claim.
ALTER TABLE idempotency_ledger ADD COLUMN IF NOT EXISTS undo jsonb;
