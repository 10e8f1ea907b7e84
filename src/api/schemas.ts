import { z } from 'zod';

const reference = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'letters, digits, _ . : -, at most 128');

/** An agent task: a prompt for the model, acting for a customer. */
export const agentTask = z.object({
  kind: z.literal('agent'),
  taskId: reference.optional(),
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

/** An order saga with no model. */
export const orderTask = z.object({
  kind: z.literal('order'),
  taskId: reference.optional(),
  order: z.object({
    orderId: reference,
    customerId: reference,
    email: z.email(),
    items: z
      .array(
        z.object({
          sku: z.string().min(1).max(64),
          quantity: z.number().int().positive().max(1000),
          unitAmount: z.number().int().nonnegative(),
        }),
      )
      .min(1),
    currency: z.string().regex(/^[a-z]{3}$/),
    shippingAddress: z.object({
      name: z.string().min(1),
      line1: z.string().min(1),
      city: z.string().min(1),
      postalCode: z.string().min(1),
      country: z.string().regex(/^[A-Z]{2}$/),
    }),
    paymentMethod: z.string().optional(),
  }),
});

export const createTask = z.discriminatedUnion('kind', [agentTask, orderTask]);
export type CreateTask = z.infer<typeof createTask>;

export const decision = z.object({
  by: z.string().max(200).optional(),
  note: z.string().max(2000).optional(),
});

/** JSON Schema of a zod schema, for Fastify validation and the OpenAPI document. */
export function jsonSchema(schema: z.ZodType): Record<string, unknown> {
  const { $schema: _ignored, ...rest } = z.toJSONSchema(schema, { io: 'input' }) as Record<string, unknown>;
  return rest;
}
