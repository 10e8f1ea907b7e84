/**
 * Intent keys and fingerprints (DESIGN "Intent keys"). Pure and deterministic, with no Node or Temporal
 * imports, so workflows may derive the same keys that activities record (import this file directly,
 * not `index.ts`, which also exports the Postgres ledger).
 */
import { canonicalJson } from './canonical.js';
import { base64url, sha256 } from './hash.js';

/** Version of the key derivation; part of every hashed payload so a change of scheme never collides. */
export const KEY_VERSION = 1;

/** Characters of base64url digest kept after the prefix: 192 bits. */
const DIGEST_CHARS = 32;

/** What an intent key is derived from. */
export interface IntentSpec {
  /** The business task: the workflow ID, stable across retries, crashes, resets and continue-as-new. */
  scope: string;
  /** The tool (operation) name, e.g. `charge_card`. */
  tool: string;
  /** The tool's identity fields: what makes this action this action (which order, which recipient). */
  identity: Record<string, unknown>;
}

function digest(value: unknown): string {
  return base64url(sha256(canonicalJson(value))).slice(0, DIGEST_CHARS);
}

/**
 * `ik_` + 32 base64url characters of SHA-256 over the canonical JSON of `{ v, scope, tool, identity }`.
 * 35 characters from `[A-Za-z0-9_-]`: safe as an `Idempotency-Key` header, in a URL, a Message-ID.
 */
export function intentKey(spec: IntentSpec): string {
  return `ik_${digest({ v: KEY_VERSION, scope: spec.scope, tool: spec.tool, identity: spec.identity })}`;
}

/** `fp_` + 32 base64url characters of SHA-256 over the canonical JSON of `value`. */
export function fingerprint(value: unknown): string {
  return `fp_${digest(value)}`;
}

const UNDO_SUFFIX = ':undo';

/** The key of a step's compensation: undoing twice is undoing once. */
export function compensationKey(stepKey: string): string {
  return `${stepKey}${UNDO_SUFFIX}`;
}

/** The key of the step that `undoKey` compensates (the inverse of {@link compensationKey}). */
export function stepKeyOf(undoKey: string): string {
  if (!undoKey.endsWith(UNDO_SUFFIX)) throw new TypeError(`${undoKey} is not a compensation key`);
  return undoKey.slice(0, -UNDO_SUFFIX.length);
}

/** Trims and lower-cases an email address (NFC normalisation happens in {@link canonicalJson}). */
export function normalizeEmail(s: string): string {
  return s.trim().toLowerCase();
}

/** A short form for summaries and logs: `ik_3f2a9cQ…`, keeping a `:undo` suffix visible. */
export function shortKey(key: string): string {
  const undo = key.endsWith(UNDO_SUFFIX);
  const base = undo ? stepKeyOf(key) : key;
  const short = base.length > 10 ? `${base.slice(0, 10)}…` : base;
  return undo ? `${short}${UNDO_SUFFIX}` : short;
}

/** Field names whose values are treated as email addresses by {@link deriveIntent}, besides `*email`. */
export const EMAIL_FIELD_NAMES: readonly string[] = ['email', 'to', 'recipient', 'cc', 'bcc'];

function isEmailField(name: string, extra: readonly string[] | undefined): boolean {
  const lower = name.toLowerCase();
  return EMAIL_FIELD_NAMES.includes(lower) || lower.endsWith('email') || (extra?.includes(name) ?? false);
}

function normalizeEmails(value: unknown): unknown {
  if (typeof value === 'string') return normalizeEmail(value);
  if (Array.isArray(value)) return value.map(normalizeEmails);
  return value;
}

function pick(
  input: Record<string, unknown>,
  fields: readonly string[],
  emailFields: readonly string[] | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (!Object.hasOwn(input, field)) continue;
    const value = input[field];
    out[field] = isEmailField(field, emailFields) ? normalizeEmails(value) : value;
  }
  return out;
}

/** Input of {@link deriveIntent}. */
export interface DeriveIntentArgs {
  /** The business task (workflow ID). */
  scope: string;
  /** The tool (operation) name. */
  tool: string;
  /** The tool input, e.g. as validated by its zod schema. */
  input: Record<string, unknown>;
  /** Top-level fields that identify the action: they make the key (and the fingerprint). */
  identityFields: readonly string[];
  /** Other top-level fields that must not change for the same action (amount, currency): fingerprint only. */
  stableFields: readonly string[];
  /**
   * More field names whose string values (or arrays of strings) are email addresses, to trim and
   * lower-case. Always included: `email`, `to`, `recipient`, `cc`, `bcc` and names ending in `email`
   * (case-insensitive).
   */
  emailFields?: readonly string[];
}

/**
 * Splits a tool input into its key and fingerprint: identity fields make the key; identity and stable
 * fields make the fingerprint; every other field (free text the model writes: body, reason, notes) is in
 * neither, so a reworded retry is the same action. Absent and `undefined` fields are the same.
 */
export function deriveIntent(args: DeriveIntentArgs): { key: string; fingerprint: string } {
  const identity = pick(args.input, args.identityFields, args.emailFields);
  const stable = pick(args.input, [...args.identityFields, ...args.stableFields], args.emailFields);
  return {
    key: intentKey({ scope: args.scope, tool: args.tool, identity }),
    fingerprint: fingerprint({ v: KEY_VERSION, tool: args.tool, fields: stable }),
  };
}
