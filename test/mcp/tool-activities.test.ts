import { randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { compensationKey } from '../../src/idempotency/keys.js';
import { Ledger } from '../../src/idempotency/ledger.js';
import { createMcpActivities } from '../../src/mcp/activities.js';
import { McpConnections } from '../../src/mcp/connections.js';
import { INTENT_KEY_META } from '../../src/mcp/meta.js';
import type { McpToolRequest, McpUndoRequest } from '../../src/mcp/requests.js';
import type { McpServerSpec } from '../../src/mcp/server-spec.js';
import type { EffectSpec, Keyed } from '../../src/tools/effects.js';
import { effectIntent } from '../../src/tools/intent.js';
import { undoIntent } from '../../src/workflows/intents.js';
import { claimExpired, hangs } from '../idempotency/helpers.js';
import { sandboxFixture } from '../sandbox/support.js';
import { failureOf } from './support.js';

/** create_ticket as an agent declares it (see `buildMcpTools`): keyed by the caller's reference. */
const CREATE_TICKET: EffectSpec = {
  tool: 'mcp:desk/create_ticket',
  identityFields: ['ticket_ref'],
  stableFields: ['customer_id'],
  recovery: 'resume',
};

interface LoggedCall {
  tool: string;
  outcome: string;
  intent_key: string | null;
  arguments: unknown;
  fault: string | null;
}

interface Ticket {
  id: string;
  ticket_ref: string;
  status: 'open' | 'deleted';
}

describe('MCP tool activities: reads, keyed effects and their compensations against the ticket desk', () => {
  let fx: Awaited<ReturnType<typeof sandboxFixture>>;
  let ledger: Ledger;
  let connections: McpConnections;
  let desk: McpServerSpec;
  let activities: ReturnType<typeof createMcpActivities>;
  let digests: Record<string, string>;

  const fresh = (prefix: string) => `${prefix}_${randomUUID()}`;
  const scope = () => fresh('mcp-tool-activities');
  const newTicket = (): Record<string, unknown> => ({
    ticket_ref: fresh('ref'),
    customer_id: fresh('cust'),
    subject: 'Parcel late',
    body: 'Order 7 has not arrived',
  });

  async function ticketsWithRef(ref: unknown): Promise<Ticket[]> {
    const { rows } = await fx.pool.query<Ticket>(
      'SELECT id, ticket_ref, status FROM sandbox.mcp_tickets WHERE ticket_ref = $1 ORDER BY created_at',
      [ref],
    );
    return rows;
  }
  async function callsWithKey(key: string): Promise<LoggedCall[]> {
    const { rows } = await fx.pool.query<LoggedCall>(
      `SELECT tool, outcome, intent_key, arguments, fault FROM sandbox.mcp_calls
        WHERE intent_key = $1 ORDER BY id`,
      [key],
    );
    return rows;
  }
  /** delete_ticket calls the desk logged with `ticketId` in their arguments, keyed or not. */
  async function deletesOf(ticketId: string): Promise<LoggedCall[]> {
    const { rows } = await fx.pool.query<LoggedCall>(
      `SELECT tool, outcome, intent_key, arguments, fault FROM sandbox.mcp_calls
        WHERE tool = 'delete_ticket' AND arguments->>'ticket_id' = $1 ORDER BY id`,
      [ticketId],
    );
    return rows;
  }

  const request = (tool: string, args: Record<string, unknown>): McpToolRequest => ({
    server: 'desk',
    tool,
    arguments: args,
    expectDigest: digests[tool]!,
  });
  /** The step as the workflow keys it, and its compensation as the workflow builds it. */
  function step(args: Record<string, unknown>, effect: EffectSpec = CREATE_TICKET, taskScope = scope()) {
    const intent = effectIntent(taskScope, effect, args);
    const undo = (resultPath = 'structuredContent.ticket.id'): Keyed<McpUndoRequest> => {
      const input: McpUndoRequest = {
        server: 'desk',
        tool: 'delete_ticket',
        arguments: { ticket_id: { $result: resultPath } },
        expectDigest: digests.delete_ticket!,
        step: { ...request('create_ticket', args), effect },
      };
      return { intent: undoIntent(intent, input, 'mcpUndoTool'), input };
    };
    const create = () => activities.mcpEffectTool({ intent, input: request('create_ticket', args) });
    return { intent, create, undo };
  }
  /**
   * A step whose outcome the ledger does not know though the desk committed it: `released`, the answer
   * was lost (drop_after_commit) and the claim released for the retry; `crashed`, the worker died
   * holding the claim after the desk committed, and the lease expired.
   */
  async function unknownStep(how: 'released' | 'crashed', effect: EffectSpec = CREATE_TICKET) {
    const args = newTicket();
    const s = step(args, effect);
    if (how === 'released') {
      fx.sandbox.faults.mcp.set([{ match: { tool: 'create_ticket' }, fault: 'drop_after_commit' }]);
      const failure = await failureOf(s.create());
      expect(failure).toMatchObject({ type: 'MCP_UNAVAILABLE', nonRetryable: false });
      expect(await ledger.get(s.intent.key)).toMatchObject({
        status: 'in_progress',
        leaseExpiresAt: null,
        error: { code: 'MCP_UNAVAILABLE' },
      });
    } else {
      void ledger.once(
        { ...s.intent, operation: s.intent.operation!, recovery: effect.recovery, leaseMs: 100 },
        async ({ key }) => {
          await connections
            .connection(desk)
            .callTool({ name: 'create_ticket', arguments: args, _meta: { [INTENT_KEY_META]: key } });
          return hangs();
        },
      );
      await claimExpired(ledger, s.intent.key);
      await expect.poll(async () => (await ticketsWithRef(args.ticket_ref)).length).toBe(1);
      expect(await ledger.get(s.intent.key)).toMatchObject({ status: 'in_progress' });
    }
    const tickets = await ticketsWithRef(args.ticket_ref);
    expect(tickets).toMatchObject([{ status: 'open' }]);
    return { ...s, args, ticket: tickets[0]! };
  }

  beforeAll(async () => {
    fx = await sandboxFixture();
    ledger = new Ledger(fx.pool);
    connections = new McpConnections({ clientInfo: { name: 'onceflow-test', version: '0.0.0' } });
    desk = { name: 'desk', transport: { type: 'http', url: fx.sandbox.addresses.mcp.url }, timeoutMs: 5_000 };
    activities = createMcpActivities([desk], connections, { ledger });
    const listed = await activities.mcpListTools({ server: 'desk' });
    digests = Object.fromEntries(listed.tools.map((t) => [t.name, t.digest]));
  });
  afterEach(() => {
    fx.sandbox.faults.mcp.clear();
  });
  afterAll(async () => {
    await connections?.close();
    await ledger?.close();
    await fx?.close();
  });

  describe('mcpReadTool', () => {
    it('returns the structured content of get_ticket and list_tickets', async () => {
      const args = newTicket();
      const created = await step(args).create();
      const ticket = (created.result.structuredContent as { ticket: Ticket }).ticket;
      expect(ticket).toMatchObject({ ticket_ref: args.ticket_ref, status: 'open' });

      const got = await activities.mcpReadTool(request('get_ticket', { ticket_id: ticket.id }));
      expect(got).toEqual({ ticket });
      const listed = await activities.mcpReadTool(request('list_tickets', { customer_id: args.customer_id }));
      expect(listed).toEqual({ tickets: [ticket] });
      // Reads are plain calls: no key travels.
      const { rows } = await fx.pool.query<{ intent_key: string | null; outcome: string }>(
        `SELECT intent_key, outcome FROM sandbox.mcp_calls
          WHERE tool = 'get_ticket' AND arguments->>'ticket_id' = $1`,
        [ticket.id],
      );
      expect(rows).toEqual([{ intent_key: null, outcome: 'read' }]);
    });

    it('an isError answer is a terminal MCP_TOOL_ERROR', async () => {
      const unknown = `tkt_${randomUUID().replaceAll('-', '')}`;
      const failure = await failureOf(activities.mcpReadTool(request('get_ticket', { ticket_id: unknown })));
      expect(failure).toMatchObject({ type: 'MCP_TOOL_ERROR', nonRetryable: true });
      expect(failure.message).toContain('not found');
    });
  });

  describe('mcpEffectTool', () => {
    it('executes once under its intent; the same intent again is replayed from the ledger', async () => {
      const args = newTicket();
      const s = step(args);
      const first = await s.create();
      expect(first).toMatchObject({
        outcome: 'executed',
        key: s.intent.key,
        result: { isError: false, serverReplayed: false },
      });
      expect(await ticketsWithRef(args.ticket_ref)).toMatchObject([{ status: 'open' }]);

      const second = await s.create();
      expect(second).toEqual({ ...first, outcome: 'replayed' });
      expect(await ticketsWithRef(args.ticket_ref)).toHaveLength(1);
      expect(await callsWithKey(s.intent.key)).toMatchObject([{ tool: 'create_ticket', outcome: 'effect' }]);
      expect(await ledger.get(s.intent.key)).toMatchObject({
        status: 'succeeded',
        operation: 'mcp:desk/create_ticket',
        response: first.result,
      });
    });

    it('an isError answer is a terminal MCP_TOOL_ERROR, not recorded: the corrected call opens the ticket', async () => {
      const { subject: _subject, ...args } = newTicket(); // subject is required by the desk
      const s = step(args);
      const failure = await failureOf(s.create());
      expect(failure).toMatchObject({ type: 'MCP_TOOL_ERROR', nonRetryable: true });
      expect(failure.message).toContain('subject');
      expect(await ticketsWithRef(args.ticket_ref)).toEqual([]);
      expect(await callsWithKey(s.intent.key)).toMatchObject([
        { tool: 'create_ticket', outcome: 'tool_error' },
      ]);
      // The desk did nothing and the ledger forgot the claim: the model's corrected call (now with the
      // subject, a stable field, so other terms under the same key) is performed.
      expect(await ledger.get(s.intent.key)).toBeUndefined();
      const fixed = { ...args, subject: 'Parcel late' };
      const again = step(fixed, CREATE_TICKET, s.intent.scope);
      expect(again.intent.key).toBe(s.intent.key);
      expect((await again.create()).outcome).toBe('executed');
      expect(await ticketsWithRef(args.ticket_ref)).toHaveLength(1);
    });
  });

  describe('mcpUndoTool', () => {
    it('undoes a performed step once, under <step key>:undo; the step is then EFFECT_UNDONE', async () => {
      const args = newTicket();
      const s = step(args);
      const created = await s.create();
      const ticketId = (created.result.structuredContent as { ticket: Ticket }).ticket.id;
      const undo = s.undo();
      expect(undo.intent.key).toBe(compensationKey(s.intent.key));
      expect(undo.intent.key).toBe(`${s.intent.key}:undo`);

      const undone = await activities.mcpUndoTool(undo);
      expect(undone).toMatchObject({
        outcome: 'executed',
        key: undo.intent.key,
        result: {
          undone: true,
          result: { isError: false, structuredContent: { ticket_id: ticketId, deleted: true } },
        },
      });
      expect(await ticketsWithRef(args.ticket_ref)).toMatchObject([{ id: ticketId, status: 'deleted' }]);
      expect(await callsWithKey(undo.intent.key)).toMatchObject([
        { tool: 'delete_ticket', outcome: 'effect', arguments: { ticket_id: ticketId } },
      ]);
      expect(await ledger.get(undo.intent.key)).toMatchObject({
        status: 'succeeded',
        operation: 'mcpUndoTool',
      });

      const again = await activities.mcpUndoTool(s.undo());
      expect(again).toEqual({ ...undone, outcome: 'replayed' });
      expect(await callsWithKey(undo.intent.key)).toHaveLength(1);
      expect(await deletesOf(ticketId)).toHaveLength(1);

      const redo = await failureOf(s.create());
      expect(redo).toMatchObject({ type: 'EFFECT_UNDONE', nonRetryable: true });
      expect(await callsWithKey(s.intent.key)).toHaveLength(1);
      expect(await ticketsWithRef(args.ticket_ref)).toMatchObject([{ status: 'deleted' }]);
    });

    it('a step never attempted: nothing to undo, recorded, and the desk is not called', async () => {
      const s = step(newTicket());
      const undo = s.undo();
      const done = await activities.mcpUndoTool(undo);
      expect(done).toEqual({
        outcome: 'executed',
        key: undo.intent.key,
        result: { undone: false, reason: 'never attempted' },
      });
      expect(await callsWithKey(undo.intent.key)).toEqual([]);
      expect(await callsWithKey(s.intent.key)).toEqual([]);
      expect(await ledger.get(undo.intent.key)).toMatchObject({ status: 'succeeded' });
      expect(await ledger.get(s.intent.key)).toBeUndefined();
    });

    it('a step that ended in isError (MCP_TOOL_ERROR): nothing to undo, the desk is not called', async () => {
      const { subject: _subject, ...args } = newTicket();
      const s = step(args);
      expect(await failureOf(s.create())).toMatchObject({ type: 'MCP_TOOL_ERROR' });
      const undo = s.undo();
      const done = await activities.mcpUndoTool(undo);
      expect(done.outcome).toBe('executed');
      expect(done.result.undone).toBe(false);
      // The refused call left no claim: the step was never performed, as far as the ledger knows.
      expect(done.result).toMatchObject({ reason: 'never attempted' });
      expect(await callsWithKey(undo.intent.key)).toEqual([]);
      // The step was not asked again either.
      expect(await callsWithKey(s.intent.key)).toMatchObject([{ outcome: 'tool_error' }]);
      expect(await ticketsWithRef(args.ticket_ref)).toEqual([]);
    });

    it.each(['released', 'crashed'] as const)(
      'a step whose outcome is unknown (%s) and recovery resume: asked again with its key, then undone',
      async (how) => {
        const { intent, args, ticket, undo: undoOf, create } = await unknownStep(how);
        const undo = undoOf();
        const done = await activities.mcpUndoTool(undo);
        expect(done).toMatchObject({
          outcome: 'executed',
          result: { undone: true, result: { structuredContent: { ticket_id: ticket.id, deleted: true } } },
        });
        // create_ticket was resent with the step's own key, and the desk replayed its first answer.
        expect(await callsWithKey(intent.key)).toMatchObject([
          { tool: 'create_ticket', outcome: 'effect' },
          { tool: 'create_ticket', outcome: 'replayed' },
        ]);
        expect(await callsWithKey(undo.intent.key)).toMatchObject([
          { tool: 'delete_ticket', outcome: 'effect', arguments: { ticket_id: ticket.id } },
        ]);
        expect(await ticketsWithRef(args.ticket_ref)).toEqual([{ ...ticket, status: 'deleted' }]);
        // The resend recorded the step, so the step now reads as done and undone.
        expect(await ledger.get(intent.key)).toMatchObject({ status: 'succeeded' });
        expect(await failureOf(create())).toMatchObject({ type: 'EFFECT_UNDONE' });
      },
    );

    it.each(['released', 'crashed'] as const)(
      'a step whose outcome is unknown (%s) and recovery escalate: OUTCOME_UNKNOWN, nothing sent',
      async (how) => {
        const effect: EffectSpec = { ...CREATE_TICKET, recovery: 'escalate' };
        const { intent, args, undo: undoOf } = await unknownStep(how, effect);
        const undo = undoOf();
        const failure = await failureOf(activities.mcpUndoTool(undo));
        expect(failure).toMatchObject({ type: 'OUTCOME_UNKNOWN', nonRetryable: true });
        expect(await callsWithKey(intent.key)).toHaveLength(1);
        expect(await callsWithKey(undo.intent.key)).toEqual([]);
        expect(await ticketsWithRef(args.ticket_ref)).toMatchObject([{ status: 'open' }]);
        expect(await ledger.get(undo.intent.key)).toMatchObject({
          status: 'in_progress',
          needsAttention: true,
        });
      },
    );

    it('a $result path that names nothing: terminal MCP_COMPENSATION_ARGUMENTS, the ticket stays open', async () => {
      const args = newTicket();
      const s = step(args);
      const created = await s.create();
      const ticketId = (created.result.structuredContent as { ticket: Ticket }).ticket.id;
      const undo = s.undo('structuredContent.nope');
      const failure = await failureOf(activities.mcpUndoTool(undo));
      expect(failure).toMatchObject({ type: 'MCP_COMPENSATION_ARGUMENTS', nonRetryable: true });
      expect(failure.message).toContain('structuredContent.nope');
      expect(await callsWithKey(undo.intent.key)).toEqual([]);
      expect(await deletesOf(ticketId)).toEqual([]);
      expect(await ticketsWithRef(args.ticket_ref)).toMatchObject([{ id: ticketId, status: 'open' }]);
      expect(await ledger.get(undo.intent.key)).toMatchObject({
        status: 'in_progress',
        error: { code: 'MCP_COMPENSATION_ARGUMENTS' },
      });
    });
  });
});
