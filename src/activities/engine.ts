import type Anthropic from '@anthropic-ai/sdk';
import type pg from 'pg';
import type { Ledger } from '../idempotency/ledger.js';
import type { TaskStream } from '../stream/store.js';
import type { TranscriptStore } from '../transcript/store.js';
import { createLedgerActivities } from './ledger.js';
import { createModelActivities } from './model.js';

/** What the engine's own activities need; the worker plugin builds it once per process. */
export interface EngineDeps {
  pool: pg.Pool;
  ledger: Ledger;
  /** Where agent conversations are kept so model turns send only new messages. */
  transcripts?: TranscriptStore | undefined;
  anthropic: Anthropic;
  /** Where streamed model turns publish their text for watchers (`GET /tasks/:id/events`). */
  stream?: TaskStream | undefined;
  /** Model name and `max_tokens` when the agent does not set them. */
  model: { model: string; maxTokens: number };
}

/** Input of the `recordEvent` activity. */
export interface RecordEventInput {
  taskId: string;
  kind: string;
  detail?: Record<string, unknown>;
}

/**
 * The activities every onceflow workflow may call: model turns, the ledger's maintenance and
 * reconciliation, and an audit trail. The worker plugin registers them next to yours.
 */
export function createEngineActivities(deps: EngineDeps) {
  return {
    ...createLedgerActivities(deps.ledger, deps.transcripts, deps.stream),
    ...createModelActivities(deps.anthropic, deps.model, deps.transcripts, deps.stream),
    /** Appends one row to `task_events`; returns its id. Not keyed: an audit trail, not an effect. */
    async recordEvent(input: RecordEventInput): Promise<{ id: number }> {
      const { rows } = await deps.pool.query<{ id: string }>(
        'INSERT INTO task_events (task_id, kind, detail) VALUES ($1, $2, $3) RETURNING id',
        [input.taskId, input.kind, JSON.stringify(input.detail ?? {})],
      );
      return { id: Number(rows[0]?.id) };
    },
  };
}

/** The engine's activity interface, imported by workflows as a type. */
export type EngineActivities = ReturnType<typeof createEngineActivities>;
