import { OnceflowError } from '../errors.js';

/**
 * The stored transcript does not match the workflow's (rows missing or pruned, a stale run overwrote
 * one, Postgres restored from a backup). Not retryable as is: the workflow resends the whole transcript.
 */
export class TranscriptGapError extends OnceflowError {
  static readonly CODE = 'TRANSCRIPT_GAP';
  readonly code = TranscriptGapError.CODE;
  readonly retryable = false;
}
