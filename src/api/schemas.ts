import { z } from 'zod';
import { TASK_STATUSES } from '../tasks/list.js';

export { taskKey } from '../tasks/request.js';

/** Body of `POST /tasks/:id/approve` and `/deny`. */
export const decision = z.strictObject({
  by: z.string().max(200).optional(),
  note: z.string().max(2000).optional(),
  key: z
    .string()
    .max(300)
    .optional()
    .describe(
      "The intent key of the effect decided on (the waiting call's `key`): refused when another effect waits.",
    ),
});

/** Query of `GET /tasks`. */
export const listQuery = z.strictObject({
  status: z.enum(TASK_STATUSES).optional().describe('Only tasks whose current run has this OnceflowStatus.'),
  limit: z.coerce.number().int().min(1).max(500).optional().describe('At most this many tasks; default 50.'),
});

/** JSON Schema of a zod schema, for Fastify validation and the OpenAPI document. */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
}
