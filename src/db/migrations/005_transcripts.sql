-- The agent conversation by reference: each model turn sends only the messages added since the last
-- turn; the model activity rebuilds the whole conversation (context and transcript) from here. A chain digest sent by the
-- workflow proves the rebuilt transcript is the workflow's own; on a mismatch the workflow resends it.
CREATE TABLE transcript_messages (
  conversation_id text        NOT NULL,
  -- -1: the context (system prompt and tools); 0…: the messages.
  seq             integer     NOT NULL CHECK (seq >= -1),
  -- 'json': UTF-8 JSON of the message; 'codec': the message as a Temporal payload, encrypted by the
  -- worker's payload codec and serialized as protobuf, so Postgres holds no more plaintext than history.
  encoding        text        NOT NULL CHECK (encoding IN ('json', 'codec')),
  body            bytea       NOT NULL,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (conversation_id, seq)
);
CREATE INDEX transcript_messages_updated_at ON transcript_messages (updated_at);
