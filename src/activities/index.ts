import type pg from 'pg';
import { createRecordsActivities } from './records.js';

/** The real clients activities use; `src/worker.ts` builds them once per process. */
export interface ActivityDeps {
  pool: pg.Pool;
}

/** Builds every activity from its clients (Temporal samples' factory pattern). */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createRecordsActivities(deps.pool),
  };
}

/** The activity interface workflows import as a type. */
export type Activities = ReturnType<typeof createActivities>;
