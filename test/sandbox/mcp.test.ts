import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  ErrorCode,
  McpError,
  ToolListChangedNotificationSchema,
  type CallToolResult,
} from '@modelcontextprotocol/sdk/types.js';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { INTENT_KEY_META, REPLAYED_META } from '../../src/sandbox/index.js';
import { fingerprint } from '../../src/sandbox/mcp-intents.js';
import { INTENT_IN_PROGRESS_CODE } from '../../src/sandbox/mcp.js';
import { sandboxFixture } from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface LoggedCall {
  tool: string;
  intent_key: string | null;
  outcome: string;
  fault: string | null;
  ticket_id: string | null;
}

describe('MCP sandbox: the ticket desk through @modelcontextprotocol/sdk', () => {
  let fx: Awaited<ReturnType<typeof sandboxFixture>>;
  let client: Client;
  const run = randomUUID().slice(0, 8);
  let n = 0;
  /** A fresh name for this run: tests share the database with other files. */
  const fresh = (prefix: string) => `${prefix}_${run}_${++n}`;

  async function connect(): Promise<Client> {
    const c = new Client({ name: 'onceflow-test', version: '0.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(fx.sandbox.addresses.mcp.url)));
    return c;
  }

  const call = async (name: string, args: Record<string, unknown>, key?: string, timeout?: number) =>
    (await client.callTool(
      { name, arguments: args, ...(key ? { _meta: { [INTENT_KEY_META]: key } } : {}) },
      undefined,
      timeout ? { timeout } : undefined,
    )) as CallToolResult;
  const text = (result: CallToolResult) => (result.content[0] as { text: string }).text;
  const ticketOf = (result: CallToolResult) =>
    (result.structuredContent as { ticket: { id: string; ticket_ref: string; status: string } }).ticket;
  const newTicket = (ref: string, customer = fresh('cust')) => ({
    ticket_ref: ref,
    customer_id: customer,
    subject: 'Parcel late',
    body: 'Order 7 has not arrived',
  });

  async function ticketsWithRef(ref: string): Promise<number> {
    const { rows } = await fx.pool.query('SELECT 1 FROM sandbox.mcp_tickets WHERE ticket_ref = $1', [ref]);
    return rows.length;
  }
  async function callsWithKey(key: string): Promise<LoggedCall[]> {
    const { rows } = await fx.pool.query<LoggedCall>(
      'SELECT tool, intent_key, outcome, fault, ticket_id FROM sandbox.mcp_calls WHERE intent_key = $1 ORDER BY id',
      [key],
    );
    return rows;
  }
  const admin = (path: string, init?: RequestInit) =>
    fetch(new URL(path, fx.sandbox.addresses.mcp.url), init);

  beforeAll(async () => {
    fx = await sandboxFixture();
    client = await connect();
  });
  afterEach(() => {
    fx.sandbox.faults.mcp.clear();
  });
  afterAll(async () => {
    await client?.close();
    await fx.close();
  });

  it('lists the four tools with their annotations and JSON Schema inputs', async () => {
    const { tools } = await client.listTools();
    const byName = Object.fromEntries(tools.map((t) => [t.name, t]));
    expect(Object.keys(byName).sort()).toEqual([
      'create_ticket',
      'delete_ticket',
      'get_ticket',
      'list_tickets',
    ]);
    expect(byName.get_ticket?.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.list_tickets?.annotations).toMatchObject({ readOnlyHint: true });
    expect(byName.create_ticket?.annotations).toMatchObject({
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
    });
    expect(byName.delete_ticket?.annotations).toMatchObject({ destructiveHint: true, idempotentHint: true });
    expect(byName.create_ticket?.inputSchema).toMatchObject({
      type: 'object',
      required: ['ticket_ref', 'customer_id', 'subject'],
    });
    expect(client.getServerCapabilities()?.tools?.listChanged).toBe(true);
  });

  it('creates, gets, lists and deletes a ticket', async () => {
    const customer = fresh('cust');
    const created = await call('create_ticket', newTicket(fresh('ref'), customer));
    expect(created.isError).toBeFalsy();
    const ticket = ticketOf(created);
    expect(ticket).toMatchObject({ status: 'open', customer_id: customer });
    expect(JSON.parse(text(created))).toEqual(created.structuredContent);
    expect(ticketOf(await call('get_ticket', { ticket_id: ticket.id }))).toEqual(ticket);
    const listed = await call('list_tickets', { customer_id: customer });
    expect((listed.structuredContent as { tickets: unknown[] }).tickets).toEqual([ticket]);

    const deleted = await call('delete_ticket', { ticket_id: ticket.id });
    expect(deleted.structuredContent).toMatchObject({ ticket_id: ticket.id, deleted: true });
    const gone = await call('get_ticket', { ticket_id: ticket.id });
    expect(gone.isError).toBe(true);
    expect(text(gone)).toContain('not found');
    expect((await call('list_tickets', { customer_id: customer })).structuredContent).toEqual({
      tickets: [],
    });
  });

  it('deletes idempotently: a deleted or unknown ticket is "nothing to delete", not an error', async () => {
    const ticket = ticketOf(await call('create_ticket', newTicket(fresh('ref'))));
    await call('delete_ticket', { ticket_id: ticket.id });
    const again = await call('delete_ticket', { ticket_id: ticket.id });
    expect(again.isError).toBeFalsy();
    expect(again.structuredContent).toMatchObject({ deleted: false });
    expect(text(again)).toContain('nothing to delete');
    const unknown = await call('delete_ticket', { ticket_id: 'tkt_nope' });
    expect(unknown.isError).toBeFalsy();
    expect(text(unknown)).toContain('nothing to delete');
  });

  it('replays the first result for the same intent key and arguments: one ticket', async () => {
    const key = fresh('intent');
    const ref = fresh('ref');
    const first = await call('create_ticket', newTicket(ref, 'cust_replay'), key);
    expect(first._meta).toEqual({ [INTENT_KEY_META]: key });
    const second = await call('create_ticket', newTicket(ref, 'cust_replay'), key);
    expect(second._meta).toEqual({ [INTENT_KEY_META]: key, [REPLAYED_META]: true });
    expect(second.structuredContent).toEqual(first.structuredContent);
    expect(await ticketsWithRef(ref)).toBe(1);
    // The key travelled in _meta: the call log has it on both calls.
    expect(await callsWithKey(key)).toEqual([
      expect.objectContaining({ tool: 'create_ticket', outcome: 'effect', ticket_id: ticketOf(first).id }),
      expect.objectContaining({ tool: 'create_ticket', outcome: 'replayed' }),
    ]);
  });

  it('refuses the same intent key with other arguments as an isError result', async () => {
    const key = fresh('intent');
    const ref = fresh('ref');
    await call('create_ticket', newTicket(ref, 'cust_a'), key);
    const reused = await call('create_ticket', { ...newTicket(ref, 'cust_a'), subject: 'Other' }, key);
    expect(reused.isError).toBe(true);
    expect(text(reused)).toContain('idempotency key reused with other arguments');
    const otherTool = await call('delete_ticket', { ticket_id: 'tkt_x' }, key);
    expect(otherTool.isError).toBe(true);
    expect(await ticketsWithRef(ref)).toBe(1);
    expect((await callsWithKey(key)).map((c) => c.outcome)).toEqual(['effect', 'conflict', 'conflict']);
  });

  it('answers a key whose first call is still running with a retryable protocol error', async () => {
    const key = fresh('intent');
    const args = newTicket(fresh('ref'), 'cust_busy');
    await fx.pool.query(
      `INSERT INTO sandbox.mcp_intents (intent_key, fingerprint, status) VALUES ($1, $2, 'in_progress')`,
      [key, fingerprint('create_ticket', args)],
    );
    const busy = await call('create_ticket', args, key).catch((e: unknown) => e);
    expect(busy).toBeInstanceOf(McpError);
    expect(busy).toMatchObject({ code: INTENT_IN_PROGRESS_CODE });
    expect(await ticketsWithRef(args.ticket_ref)).toBe(0);
  });

  it('is a plain downstream without a key: each call is an effect, logged without a key', async () => {
    const ref = fresh('ref');
    await call('create_ticket', newTicket(ref, 'cust_plain'));
    await call('create_ticket', newTicket(ref, 'cust_plain'));
    expect(await ticketsWithRef(ref)).toBe(2);
    const { rows } = await fx.pool.query(
      `SELECT c.intent_key FROM sandbox.mcp_calls c JOIN sandbox.mcp_tickets t ON t.id = c.ticket_id
       WHERE t.ticket_ref = $1 AND c.outcome = 'effect'`,
      [ref],
    );
    expect(rows).toEqual([{ intent_key: null }, { intent_key: null }]);
  });

  it('answers bad input and unknown tickets with isError, an unknown tool with a protocol error', async () => {
    const bad = await call('create_ticket', { ticket_ref: '', customer_id: 'c', subject: 's', extra: 1 });
    expect(bad.isError).toBe(true);
    expect(text(bad)).toContain('ticket_ref');
    expect(text(bad)).toContain('extra');
    const missing = await call('get_ticket', { ticket_id: 'tkt_missing' });
    expect(missing.isError).toBe(true);
    const badKey = await client.callTool({
      name: 'create_ticket',
      arguments: newTicket(fresh('ref')),
      _meta: { [INTENT_KEY_META]: 42 },
    });
    expect(badKey.isError).toBe(true);
    const unknown = await call('no_such_tool', {}).catch((e: unknown) => e);
    expect(unknown).toBeInstanceOf(McpError);
    expect(unknown).toMatchObject({ code: ErrorCode.InvalidParams });
  });

  it('drop_after_commit: the call fails at the client, the retry with its key replays the committed ticket', async () => {
    const key = fresh('intent');
    const ref = fresh('ref');
    fx.sandbox.faults.mcp.set([{ match: { tool: 'create_ticket' }, fault: 'drop_after_commit' }]);
    await expect(call('create_ticket', newTicket(ref, 'cust_drop'), key)).rejects.toThrow();
    expect(await ticketsWithRef(ref)).toBe(1);
    const retried = await call('create_ticket', newTicket(ref, 'cust_drop'), key);
    expect(retried._meta?.[REPLAYED_META]).toBe(true);
    expect(await ticketsWithRef(ref)).toBe(1);
    expect(await callsWithKey(key)).toEqual([
      expect.objectContaining({ outcome: 'effect', fault: 'drop_after_commit' }),
      expect.objectContaining({ outcome: 'replayed', fault: null }),
    ]);
  });

  it('fail_before_commit: a JSON-RPC internal error, nothing done, the key free for the retry', async () => {
    const key = fresh('intent');
    const ref = fresh('ref');
    fx.sandbox.faults.mcp.set([{ match: { tool: 'create_ticket' }, fault: 'fail_before_commit' }]);
    const error = await call('create_ticket', newTicket(ref, 'cust_fail'), key).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(McpError);
    expect(error).toMatchObject({ code: ErrorCode.InternalError });
    expect(await ticketsWithRef(ref)).toBe(0);
    const retried = await call('create_ticket', newTicket(ref, 'cust_fail'), key);
    expect(retried._meta?.[REPLAYED_META]).toBeUndefined();
    expect(await ticketsWithRef(ref)).toBe(1);
  });

  it('hang: no answer until the client times out, and nothing done', async () => {
    const key = fresh('intent');
    const ref = fresh('ref');
    fx.sandbox.faults.mcp.set([{ match: { tool: 'create_ticket' }, fault: 'hang' }]);
    const began = Date.now();
    const error = await call('create_ticket', newTicket(ref, 'cust_hang'), key, 400).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: ErrorCode.RequestTimeout });
    expect(Date.now() - began).toBeGreaterThanOrEqual(390);
    expect(await ticketsWithRef(ref)).toBe(0);
    // The client's cancellation reaches the server, which logs the call as hung.
    await expect.poll(async () => (await callsWithKey(key)).map((c) => c.outcome)).toEqual(['hung']);
  });

  it('latency and faults matched by tool name leave other tools alone', async () => {
    fx.sandbox.faults.mcp.set([{ match: { tool: 'create_ticket' }, fault: 'latency', latencyMs: 300 }]);
    let began = Date.now();
    await call('list_tickets', { customer_id: 'cust_none' });
    expect(Date.now() - began).toBeLessThan(300);
    began = Date.now();
    await call('create_ticket', newTicket(fresh('ref')));
    expect(Date.now() - began).toBeGreaterThanOrEqual(290);
  });

  it('takes fault rules and reports counters over its admin endpoints', async () => {
    const rules = [{ match: { tool: 'get_ticket' }, fault: 'fail_before_commit' }];
    const set = await admin('/__admin/faults', { method: 'POST', body: JSON.stringify({ rules }) });
    expect(set.status).toBe(200);
    await expect(call('get_ticket', { ticket_id: 'tkt_x' })).rejects.toThrow(McpError);
    const badRule = await admin('/__admin/faults', {
      method: 'POST',
      body: JSON.stringify({ rules: [{ fault: 'explode' }] }),
    });
    expect(badRule.status).toBe(400);
    const stats = (await (await admin('/__admin/stats')).json()) as {
      calls: Record<string, number>;
      effects: number;
      unkeyedEffects: number;
      replays: number;
      conflicts: number;
      variant: string;
      sessions: number;
      faults: Record<string, number>;
    };
    expect(stats.calls.create_ticket).toBeGreaterThanOrEqual(10);
    expect(stats.calls.get_ticket).toBeGreaterThanOrEqual(3);
    expect(stats.effects).toBeGreaterThanOrEqual(10);
    expect(stats.unkeyedEffects).toBeGreaterThanOrEqual(2);
    expect(stats.replays).toBeGreaterThanOrEqual(2);
    expect(stats.conflicts).toBe(2);
    expect(stats).toMatchObject({ variant: 'v1', sessions: 1 });
    expect(stats.faults.fail_before_commit).toBe(2);
  });

  it('switches the tool list at runtime and notifies the session', async () => {
    const watcher = await connect();
    const changed = new Promise<void>((resolve) =>
      watcher.setNotificationHandler(ToolListChangedNotificationSchema, () => resolve()),
    );
    try {
      const switched = await admin('/__admin/tools', {
        method: 'POST',
        body: JSON.stringify({ variant: 'v2' }),
      });
      expect(switched.status).toBe(200);
      await changed;
      const create = (await watcher.listTools()).tools.find((t) => t.name === 'create_ticket');
      expect(create?.inputSchema.required).toContain('priority');
      const withoutPriority = await call('create_ticket', newTicket(fresh('ref')));
      expect(withoutPriority.isError).toBe(true);
      expect(text(withoutPriority)).toContain('priority');
      const created = await call('create_ticket', { ...newTicket(fresh('ref')), priority: 'high' });
      expect(created.structuredContent).toMatchObject({ ticket: { priority: 'high' } });
      expect((await admin('/__admin/tools', { method: 'POST', body: '{"variant":"v9"}' })).status).toBe(400);
    } finally {
      await admin('/__admin/tools', { method: 'POST', body: JSON.stringify({ variant: 'v1' }) });
      await watcher.close();
    }
    const create = (await client.listTools()).tools.find((t) => t.name === 'create_ticket');
    expect(create?.inputSchema.required).not.toContain('priority');
  });

  it('serves the same desk over stdio; drop_after_commit ends the process; state in Postgres', async () => {
    const stdio = async (env: Record<string, string> = {}) => {
      const c = new Client({ name: 'onceflow-test-stdio', version: '0.0.0' });
      await c.connect(
        new StdioClientTransport({
          command: process.execPath,
          args: ['--import', 'tsx', 'src/sandbox/mcp-stdio.ts'],
          cwd: ROOT,
          env: { ...(process.env as Record<string, string>), DATABASE_URL: inject('databaseUrl'), ...env },
          stderr: 'pipe',
        }),
      );
      return c;
    };
    const key = fresh('intent');
    const ref = fresh('ref');
    const args = {
      name: 'create_ticket',
      arguments: newTicket(ref, 'cust_stdio'),
      _meta: { [INTENT_KEY_META]: key },
    };
    const rules = [{ match: { tool: 'create_ticket' }, fault: 'drop_after_commit' }];
    const first = await stdio({ SANDBOX_MCP_FAULTS: JSON.stringify(rules) });
    try {
      expect((await first.listTools()).tools).toHaveLength(4);
      // Over stdio the connection is the process: it exits after the commit, unanswered.
      const error = await first.callTool(args).catch((e: unknown) => e);
      expect(error).toMatchObject({ code: ErrorCode.ConnectionClosed });
    } finally {
      await first.close();
    }
    expect(await ticketsWithRef(ref)).toBe(1);
    const second = await stdio();
    try {
      const replayed = (await second.callTool(args)) as CallToolResult;
      expect(replayed._meta?.[REPLAYED_META]).toBe(true);
    } finally {
      await second.close();
    }
    expect(await ticketsWithRef(ref)).toBe(1);
    const { rows } = await fx.pool.query<{ transport: string; outcome: string }>(
      'SELECT transport, outcome FROM sandbox.mcp_calls WHERE intent_key = $1 ORDER BY id',
      [key],
    );
    expect(rows).toEqual([
      { transport: 'stdio', outcome: 'effect' },
      { transport: 'stdio', outcome: 'replayed' },
    ]);
  });
});
