/**
 * The digest chain over an agent transcript: `link(previous, message)` for each message in order, so a
 * workflow extends it one message at a time and the model activity verifies a rebuilt transcript in
 * one pass. Pure (no Node or Temporal imports): it runs in the workflow sandbox and in activities.
 */
import { canonicalJson } from '../idempotency/canonical.js';
import { base64url, sha256 } from '../idempotency/hash.js';

/** The digest of an empty transcript. */
export const EMPTY_CHAIN = 'tc0';

/** The chain digest after appending `message` to a transcript whose digest is `previous`. */
export function linkMessage(previous: string, message: unknown): string {
  return base64url(sha256(`${previous}\n${canonicalJson(message)}`));
}

/** The chain digest of a whole transcript. */
export function chainOf(messages: readonly unknown[]): string {
  let chain = EMPTY_CHAIN;
  for (const message of messages) chain = linkMessage(chain, message);
  return chain;
}
