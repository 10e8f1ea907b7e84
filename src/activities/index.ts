import type pg from 'pg';
import type { DownstreamClients } from '../downstream.js';
import type { Ledger } from '../idempotency/ledger.js';
import type { TranscriptStore } from '../transcript/store.js';
import { createEmailActivities } from './email.js';
import { heartbeating } from './heartbeat.js';
import { createLedgerActivities } from './ledger.js';
import { createModelActivities } from './model.js';
import { createPaymentsActivities } from './payments.js';
import { createRecordsActivities } from './records.js';

/** The real clients activities use; `src/worker.ts` builds them once per process. */
export interface ActivityDeps {
  pool: pg.Pool;
  ledger: Ledger;
  downstream: DownstreamClients;
  /** Where agent conversations are kept so model turns send only new messages. */
  transcripts?: TranscriptStore;
}

/** Builds every activity from its clients (Temporal samples' factory pattern). */
export function createActivities(deps: ActivityDeps) {
  return heartbeating({
    ...createRecordsActivities(deps.pool, deps.ledger),
    ...createPaymentsActivities(deps.downstream.stripe, deps.ledger),
    ...createEmailActivities(deps.downstream.mailer, deps.ledger, {
      from: deps.downstream.mailFrom,
      lookupUrl: deps.downstream.emailLookupUrl,
    }),
    ...createLedgerActivities(deps.ledger, deps.transcripts),
    ...createModelActivities(
      deps.downstream.anthropic,
      { model: deps.downstream.model, maxTokens: deps.downstream.maxTokens },
      deps.transcripts,
    ),
  });
}

/** The activity interface workflows import as a type. */
export type Activities = ReturnType<typeof createActivities>;
