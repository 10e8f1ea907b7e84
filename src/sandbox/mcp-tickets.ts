import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type pg from 'pg';
import { deleteTicket, findTicket, insertTicket, openTickets, type CallOutcome } from './mcp-store.js';
import type { TicketTool } from './mcp-tools.js';

/** A successful result: the value as structured content and, for older clients, as JSON text. */
export const ok = (value: Record<string, unknown>): CallToolResult => ({
  content: [{ type: 'text', text: JSON.stringify(value) }],
  structuredContent: value,
});

/** A tool execution error: shown to the model, not a failure of the protocol. */
export const toolError = (text: string): CallToolResult => ({
  content: [{ type: 'text', text }],
  isError: true,
});

/** Runs a read-only tool (`get_ticket`, `list_tickets`) on validated arguments. */
export async function readTickets(
  pool: pg.Pool,
  tool: TicketTool,
  args: Record<string, unknown>,
): Promise<CallToolResult> {
  if (tool.name === 'list_tickets') return ok({ tickets: await openTickets(pool, String(args.customer_id)) });
  const ticket = await findTicket(pool, String(args.ticket_id));
  if (!ticket || ticket.status === 'deleted') {
    return toolError(`ticket ${String(args.ticket_id)} not found${ticket ? ' (deleted)' : ''}`);
  }
  return ok({ ticket });
}

/** An effect tool's change: its result, whether it changed anything, and the ticket concerned. */
export interface Change {
  result: CallToolResult;
  outcome: Extract<CallOutcome, 'effect' | 'noop'>;
  ticketId: string;
}

/** Runs an effect tool (`create_ticket`, `delete_ticket`) on validated arguments, in `client`'s transaction. */
export async function changeTickets(
  client: pg.PoolClient,
  tool: TicketTool,
  args: Record<string, unknown>,
): Promise<Change> {
  if (tool.name === 'create_ticket') {
    const ticket = await insertTicket(client, args as Parameters<typeof insertTicket>[1]);
    return { result: ok({ ticket }), outcome: 'effect', ticketId: ticket.id };
  }
  const id = String(args.ticket_id);
  const deleted = await deleteTicket(client, id);
  if (deleted)
    return { result: ok({ ticket_id: id, deleted: true, ticket: deleted }), outcome: 'effect', ticketId: id };
  // Deleting what is not there succeeds: delete_ticket is the compensation of create_ticket, and a
  // compensation that already ran must be safe to run again.
  return {
    result: ok({ ticket_id: id, deleted: false, message: `nothing to delete: no open ticket ${id}` }),
    outcome: 'noop',
    ticketId: id,
  };
}
