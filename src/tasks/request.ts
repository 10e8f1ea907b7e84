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

const reference = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'letters, digits, _ . : -, at most 128');

/** An agent task: a prompt for the model, acting for a customer. Unknown fields are refused. */
export const agentTask = z.strictObject({
  kind: z.literal('agent'),
  taskId: taskKey.optional(),
  prompt: z.string().min(1).max(20_000),
  customerId: reference.optional(),
  scenario: z
    .string()
    .regex(/^[a-z0-9-]+$/)
    .optional()
    .describe('Scripted sandbox scenario (ignored by the real API).'),
  maxTurns: z.number().int().min(1).max(200).optional(),
  approvalLimit: z
    .number()
    .int()
    .min(0)
    .optional()
    .describe('Charges above this many minor units wait for approval.'),
});

/** An order saga with no model. Unknown fields are refused, at every depth. */
export const orderTask = z.strictObject({
  kind: z.literal('order'),
  taskId: taskKey.optional(),
  order: z.strictObject({
    orderId: reference,
    customerId: reference,
    email: z.email(),
    items: z
      .array(
        z.strictObject({
          sku: z.string().min(1).max(64),
          quantity: z.number().int().positive().max(1000),
          unitAmount: z.number().int().nonnegative(),
        }),
      )
      .min(1),
    currency: z.string().regex(/^[a-z]{3}$/),
    shippingAddress: z.strictObject({
      name: z.string().min(1),
      line1: z.string().min(1),
      city: z.string().min(1),
      postalCode: z.string().min(1),
      country: z.string().regex(/^[A-Z]{2}$/),
    }),
    paymentMethod: z.string().optional(),
  }),
});

/** What starts a task, through the API's `POST /tasks`, the CLI's `run` or {@link startTask}. */
export const createTask = z.discriminatedUnion('kind', [agentTask, orderTask]);
export type CreateTask = z.infer<typeof createTask>;

/** zod issues as one line: `field.path: reason; …`, `(body)` for the whole value. */
export function formatIssues(error: z.ZodError, root = '(body)'): string {
  return error.issues.map((i) => `${i.path.join('.') || root}: ${i.message}`).join('; ');
}

/** Parses a task request; throws {@link InvalidTaskRequestError} naming each bad field. */
export function parseTaskRequest(value: unknown): CreateTask {
  const parsed = createTask.safeParse(value);
  if (!parsed.success) throw new InvalidTaskRequestError(formatIssues(parsed.error));
  return parsed.data;
}

/** Parses an idempotency key; `name` is how the caller knows it (`Idempotency-Key`, `--id`). */
export function parseTaskKey(value: string, name: string): string {
  const parsed = taskKey.safeParse(value);
  if (!parsed.success)
    throw new InvalidTaskRequestError(`${name}: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
  return parsed.data;
}
