-- An append-only trail of what each task did, written by activities (records.ts).
CREATE TABLE task_events (
  id          bigserial PRIMARY KEY,
  task_id     text        NOT NULL,
  kind        text        NOT NULL,
  detail      jsonb       NOT NULL DEFAULT '{}'::jsonb,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX task_events_task_id ON task_events (task_id);
