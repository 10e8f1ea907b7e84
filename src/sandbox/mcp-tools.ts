import type { Tool, ToolAnnotations } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';

import { INTENT_KEY_META, REPLAYED_META } from '../mcp/meta.js';

// The engine owns the `_meta` names (src/mcp/meta.ts); the sandbox follows them.
export { INTENT_KEY_META, REPLAYED_META };

/**
 * The tool lists the desk can serve. `v2` is the same desk after a deploy that made `priority`
 * required on `create_ticket`: the "tool list changed mid-session" case.
 */
export type ToolVariant = 'v1' | 'v2';

/** The variants, for validating `POST /__admin/tools`. */
export const TOOL_VARIANTS: readonly ToolVariant[] = ['v1', 'v2'];

/** Names of the desk's tools. */
export type TicketToolName = 'get_ticket' | 'create_ticket' | 'delete_ticket' | 'list_tickets';

const ticketId = z.string().min(1).describe('The ticket id the desk assigned (tkt_…)');
const customerId = z.string().min(1).describe('The customer the ticket is about');
const priority = z.enum(['low', 'normal', 'high']);

const createV1 = z.strictObject({
  ticket_ref: z.string().min(1).describe("The caller's business reference for the ticket"),
  customer_id: customerId,
  subject: z.string().min(1),
  body: z.string().optional(),
});

/** One tool: what `tools/list` shows and the schema its arguments are parsed with. */
export interface TicketTool {
  name: TicketToolName;
  description: string;
  input: z.ZodType<Record<string, unknown>>;
  annotations: ToolAnnotations;
  /** A call changes state: the intent key applies (read-only tools ignore it). */
  effect: boolean;
}

const READ: ToolAnnotations = { readOnlyHint: true, openWorldHint: false };

function tools(variant: ToolVariant): TicketTool[] {
  return [
    {
      name: 'get_ticket',
      description: 'Fetch one ticket by id.',
      input: z.strictObject({ ticket_id: ticketId }),
      annotations: { ...READ, title: 'Get ticket' },
      effect: false,
    },
    {
      name: 'create_ticket',
      description: `Open a support ticket. Not idempotent by itself: pass an intent key in _meta["${INTENT_KEY_META}"] to make a retry safe.`,
      input: variant === 'v2' ? createV1.extend({ priority }) : createV1,
      annotations: {
        title: 'Create ticket',
        readOnlyHint: false,
        destructiveHint: false,
        idempotentHint: false,
        openWorldHint: false,
      },
      effect: true,
    },
    {
      name: 'delete_ticket',
      description: 'Delete a ticket (undoes create_ticket). Deleting a deleted or unknown ticket is a no-op.',
      input: z.strictObject({ ticket_id: ticketId }),
      annotations: {
        title: 'Delete ticket',
        readOnlyHint: false,
        destructiveHint: true,
        idempotentHint: true,
        openWorldHint: false,
      },
      effect: true,
    },
    {
      name: 'list_tickets',
      description: "List a customer's open tickets, oldest first.",
      input: z.strictObject({ customer_id: customerId }),
      annotations: { ...READ, title: 'List tickets' },
      effect: false,
    },
  ];
}

const BY_VARIANT: Record<ToolVariant, TicketTool[]> = { v1: tools('v1'), v2: tools('v2') };

/** The desk's tools in a variant. */
export function ticketTools(variant: ToolVariant): readonly TicketTool[] {
  return BY_VARIANT[variant];
}

/** The tool named `name` in a variant, if it exists. */
export function findTool(variant: ToolVariant, name: string): TicketTool | undefined {
  return BY_VARIANT[variant].find((t) => t.name === name);
}

/** The `tools/list` entries of a variant: JSON Schema inputs generated from the zod schemas. */
export function listedTools(variant: ToolVariant): Tool[] {
  return BY_VARIANT[variant].map((t) => ({
    name: t.name,
    title: t.annotations.title,
    description: t.description,
    inputSchema: z.toJSONSchema(t.input) as Tool['inputSchema'],
    annotations: t.annotations,
  }));
}

/** Parses a call's arguments: the value, or a message naming each problem (for an `isError` result). */
export function parseArguments(
  tool: TicketTool,
  args: unknown,
): { ok: true; value: Record<string, unknown> } | { ok: false; message: string } {
  const parsed = tool.input.safeParse(args ?? {});
  if (parsed.success) return { ok: true, value: parsed.data };
  const problems = parsed.error.issues.map((i) =>
    i.path.length ? `${i.path.join('.')}: ${i.message}` : i.message,
  );
  return { ok: false, message: `invalid arguments for ${tool.name}: ${problems.join('; ')}` };
}
