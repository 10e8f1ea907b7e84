import { z } from 'zod';
import { InvalidTaskRequestError } from './errors.js';

/**
 * An idempotency key, which is also the task's workflow ID: the `Idempotency-Key` header, the body's
 * `taskId`, the CLI's `--id`. Visible ASCII (no spaces or control characters, so it survives a header
 * and a log line), at most 255 characters (well inside Temporal's workflow ID limit), and no quotes or
 * backslash: Temporal's SQL visibility stores cannot match those in a `WorkflowId = '…'` query, so the
 * task's runs could not be listed.
 */
export const taskKey = z
  .string()
  .regex(
    /^[\x21\x23-\x26\x28-\x5b\x5d-\x7e]{1,255}$/,
    'visible ASCII without spaces, quotes or backslash, 1 to 255 characters',
  );

/**
 * What starts a task, through the API's `POST /tasks`, the CLI's `run` or `startTask`: a task kind's
 * fields with its `kind`, and optionally the `taskId` (the idempotency key).
 */
export type CreateTask = { kind: string; taskId?: string | undefined } & Record<string, unknown>;

/** zod issues as one line: `field.path: reason; …`, `(body)` for the whole value. */
export function formatIssues(error: z.ZodError, root = '(body)'): string {
  return error.issues.map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ');
}

/** Parses an idempotency key; `name` is how the caller knows it (`Idempotency-Key`, `--id`). */
export function parseTaskKey(value: string, name: string): string {
  const parsed = taskKey.safeParse(value);
  if (!parsed.success)
    throw new InvalidTaskRequestError(`${name}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}
