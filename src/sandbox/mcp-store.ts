import { randomBytes } from 'node:crypto';
import type pg from 'pg';

/** A ticket as the desk's tools return it. */
export interface Ticket {
  id: string;
  ticket_ref: string;
  customer_id: string;
  subject: string;
  body: string | null;
  priority: string | null;
  status: 'open' | 'deleted';
  created_at: string;
}

/**
 * What became of one `tools/call`: `read` (a read-only tool answered), `effect` (committed a change),
 * `noop` (an effect tool with nothing to change), `replayed` (an intent key's first result returned),
 * `conflict` (intent key reused with other arguments), `in_progress` (the key's first call still runs),
 * `tool_error` (an `isError` result: bad arguments, unknown ticket), `failed` (a protocol error:
 * injected failure, unknown tool), `hung` (injected hang; the caller gave up).
 */
export type CallOutcome =
  'read' | 'effect' | 'noop' | 'replayed' | 'conflict' | 'in_progress' | 'tool_error' | 'failed' | 'hung';

/** One row of the call log. */
export interface CallRecord {
  tool: string;
  arguments: unknown;
  intentKey: string | undefined;
  outcome: CallOutcome;
  ticketId?: string | undefined;
  fault?: string | undefined;
  transport: 'http' | 'stdio';
  sessionId?: string | undefined;
}

/** Appends to `sandbox.mcp_calls`; an `effect` row is written on the effect's transaction client. */
export async function logCall(db: pg.Pool | pg.PoolClient, call: CallRecord): Promise<void> {
  await db.query(
    `INSERT INTO sandbox.mcp_calls (tool, arguments, intent_key, outcome, ticket_id, fault, transport, session_id)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      call.tool,
      JSON.stringify(call.arguments ?? null),
      call.intentKey ?? null,
      call.outcome,
      call.ticketId ?? null,
      call.fault ?? null,
      call.transport,
      call.sessionId ?? null,
    ],
  );
}

const TICKET_COLUMNS = `id, ticket_ref, customer_id, subject, body, priority, status,
  to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') AS created_at`;

/** Inserts an open ticket with a fresh `tkt_…` id. */
export async function insertTicket(
  client: pg.PoolClient,
  input: { ticket_ref: string; customer_id: string; subject: string; body?: string; priority?: string },
): Promise<Ticket> {
  const id = `tkt_${randomBytes(10).toString('hex')}`;
  const { rows } = await client.query<Ticket>(
    `INSERT INTO sandbox.mcp_tickets (id, ticket_ref, customer_id, subject, body, priority, status)
     VALUES ($1, $2, $3, $4, $5, $6, 'open') RETURNING ${TICKET_COLUMNS}`,
    [id, input.ticket_ref, input.customer_id, input.subject, input.body ?? null, input.priority ?? null],
  );
  return rows[0] as Ticket;
}

/** Marks an open ticket deleted; undefined when there is no open ticket with that id. */
export async function deleteTicket(client: pg.PoolClient, id: string): Promise<Ticket | undefined> {
  const { rows } = await client.query<Ticket>(
    `UPDATE sandbox.mcp_tickets SET status = 'deleted', deleted_at = now()
     WHERE id = $1 AND status = 'open' RETURNING ${TICKET_COLUMNS}`,
    [id],
  );
  return rows[0];
}

/** The ticket with that id, deleted or not. */
export async function findTicket(pool: pg.Pool, id: string): Promise<Ticket | undefined> {
  const { rows } = await pool.query<Ticket>(
    `SELECT ${TICKET_COLUMNS} FROM sandbox.mcp_tickets WHERE id = $1`,
    [id],
  );
  return rows[0];
}

/** A customer's open tickets, oldest first. */
export async function openTickets(pool: pg.Pool, customerId: string): Promise<Ticket[]> {
  const { rows } = await pool.query<Ticket>(
    `SELECT ${TICKET_COLUMNS} FROM sandbox.mcp_tickets
     WHERE customer_id = $1 AND status = 'open' ORDER BY created_at, id`,
    [customerId],
  );
  return rows;
}

/** Tickets by the caller's reference, deleted ones included: how tests count duplicate creates. */
export async function ticketsByRef(pool: pg.Pool, ticketRef: string): Promise<Ticket[]> {
  const { rows } = await pool.query<Ticket>(
    `SELECT ${TICKET_COLUMNS} FROM sandbox.mcp_tickets WHERE ticket_ref = $1 ORDER BY created_at, id`,
    [ticketRef],
  );
  return rows;
}
