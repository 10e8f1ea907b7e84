-- What watchers of a task are shown live (GET /tasks/:id/events): model text as it is generated, tool
-- calls and their results, approvals, compensations, status. History stays the record of truth; this
-- is its live view, written by model-turn activities and by the API processes that watch a task.
CREATE TABLE task_stream (
  -- The SSE event id. Writers for one task hold an advisory lock on it while they insert, so within a
  -- task ids are assigned in commit order and a reader resuming after id N misses nothing.
  id         bigserial   PRIMARY KEY,
  task_id    text        NOT NULL,
  kind       text        NOT NULL,
  -- The model turn (`<run id>/<activity id>`) and attempt that wrote the row; null for other events.
  turn       text,
  attempt    integer,
  -- At most one live row per (task, dedupe): events that several writers may publish (a tool result
  -- seen by the model turn after it and by a watching API process).
  dedupe     text,
  -- Set on the rows of an attempt a retry replaced: readers skip them, so no client shows text twice.
  discarded  boolean     NOT NULL DEFAULT false,
  -- As transcript_messages: 'codec' bodies are encrypted by the payload codec.
  encoding   text        NOT NULL CHECK (encoding IN ('json', 'codec')),
  body       bytea       NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_stream_task ON task_stream (task_id, id);
CREATE INDEX task_stream_turn ON task_stream (task_id, turn) WHERE turn IS NOT NULL;
CREATE UNIQUE INDEX task_stream_dedupe ON task_stream (task_id, dedupe)
  WHERE dedupe IS NOT NULL AND NOT discarded;
CREATE INDEX task_stream_created_at ON task_stream (created_at);
