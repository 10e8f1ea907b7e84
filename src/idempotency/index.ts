/**
 * Intent keys and the Postgres idempotency ledger. Workflows must import `./keys.js` (and
 * `./canonical.js`) directly: this index also exports the ledger (pg) and the activity helper.
 */
export * from './canonical.js';
export * from './keys.js';
export * from './errors.js';
export * from './failure.js';
export * from './ledger.js';
export * from './activity.js';
