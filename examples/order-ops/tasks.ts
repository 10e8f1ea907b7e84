/**
 * The task kinds of the order example, as its backend starts them (`POST /tasks`, `onceflow run`):
 * `agent` (a prompt for the order agent), `order` (the order saga, no model) and `support` (a prompt for
 * the support agent, whose tools come from the support desk's MCP server).
 */
import { agentTask, defineTask, type TaskKind } from 'onceflow/client';
import { z } from 'zod';
import { agentWorkflow } from './agent.js';
import { orderWorkflow } from './order-saga.js';
import { supportAgent } from './support-agent.js';

const reference = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}$/, 'letters, digits, _ . : -, at most 128');

/** `{"kind": "agent", "prompt": …, "approvalLimit"?: …}`: a task for the order agent. */
export const agentTaskKind = agentTask(agentWorkflow, {
  kind: 'agent',
  extend: {
    approvalLimit: z
      .number()
      .int()
      .min(0)
      .optional()
      .describe('Charges above this many minor units wait for approval.'),
  },
  description: 'An agent task: a prompt for the order-operations agent, acting for a customer.',
});

/** `{"kind": "order", "order": {…}}`: an order saga. Unknown fields are refused, at every depth. */
export const orderTaskKind = defineTask({
  kind: 'order',
  workflow: orderWorkflow,
  description: 'An order saga with no model: create, charge, ship, confirm; undone in reverse on failure.',
  input: z.object({
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
  }),
  args: ({ order }) => [order],
  summary: ({ order }) => `order ${order.orderId} for ${order.customerId}`,
});

/** `{"kind": "support", "prompt": …, "approveTickets"?: …}`: a task for the support agent (MCP desk tools). */
export const supportTaskKind = agentTask(supportAgent, {
  kind: 'support',
  extend: {
    approveTickets: z
      .boolean()
      .optional()
      .describe('Tickets of this task wait for a person to approve them.'),
  },
  description:
    "A support task: a prompt for the support agent, whose tools are the support desk's MCP tools.",
});

/** What the order example's API and CLI start. */
export const ORDER_TASKS: readonly TaskKind[] = [agentTaskKind, orderTaskKind, supportTaskKind];
export default ORDER_TASKS;
