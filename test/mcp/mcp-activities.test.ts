import { randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { Ledger } from '../../src/idempotency/ledger.js';
import { TOLD_TO_MODEL } from '../../src/idempotency/told-to-model.js';
import { createMcpActivities } from '../../src/mcp/activities.js';
import { callMcpTool } from '../../src/mcp/call.js';
import { McpConnections } from '../../src/mcp/connections.js';
import { INTENT_KEY_META } from '../../src/mcp/meta.js';
import type { McpServerSpec } from '../../src/mcp/server-spec.js';
import { mcpToolKind, toToolInfo } from '../../src/mcp/tool-info.js';
import { listMcpTools } from '../../src/mcp/tools.js';
import { FaultController } from '../../src/sandbox/faults.js';
import { startMcpServer } from '../../src/sandbox/mcp.js';
import { effectIntent } from '../../src/tools/intent.js';
import type { EffectSpec } from '../../src/tools/effects.js';
import { claimExpired, hangs } from '../idempotency/helpers.js';
import { sandboxFixture } from '../sandbox/support.js';
import { failureOf } from './support.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** How the tests key create_ticket: the caller's reference names the ticket; the customer is a term. */
const CREATE_TICKET: EffectSpec = {
  tool: 'create_ticket',
  identityFields: ['ticket_ref'],
  stableFields: ['customer_id'],
  recovery: 'resume',
};

interface LoggedCall {
  tool: string;
  outcome: string;
  fault: string | null;
}

describe('MCP activities: durable, keyed MCP tool calls against the sandbox ticket desk', () => {
  let fx: Awaited<ReturnType<typeof sandboxFixture>>;
  let ledger: Ledger;
  let connections: McpConnections;
  let desk: McpServerSpec;
  let activities: ReturnType<typeof createMcpActivities>;
  const toolListChanges: ((server: string) => void)[] = [];
  const run = randomUUID().slice(0, 8);
  let n = 0;
  const fresh = (prefix: string) => `${prefix}_${run}_${++n}`;
  const scope = () => `mcp-test-${run}-${++n}`;

  const newTicket = (ref = fresh('ref'), customer = fresh('cust')) => ({
    ticket_ref: ref,
    customer_id: customer,
    subject: 'Parcel late',
    body: 'Order 7 has not arrived',
  });
  const createIntent = (taskScope: string, args: Record<string, unknown>) =>
    effectIntent(taskScope, CREATE_TICKET, args);

  async function ticketsWithRef(ref: string): Promise<number> {
    const { rows } = await fx.pool.query('SELECT 1 FROM sandbox.mcp_tickets WHERE ticket_ref = $1', [ref]);
    return rows.length;
  }
  async function callsWithKey(key: string): Promise<LoggedCall[]> {
    const { rows } = await fx.pool.query<LoggedCall>(
      'SELECT tool, outcome, fault FROM sandbox.mcp_calls WHERE intent_key = $1 ORDER BY id',
      [key],
    );
    return rows;
  }
  const admin = (path: string, init?: RequestInit) =>
    fetch(new URL(path, fx.sandbox.addresses.mcp.url), init);
  const nextToolListChange = () =>
    new Promise<string>((resolve) => {
      toolListChanges.push(resolve);
    });

  beforeAll(async () => {
    fx = await sandboxFixture();
    ledger = new Ledger(fx.pool);
    connections = new McpConnections({
      clientInfo: { name: 'onceflow-test', version: '0.0.0' },
      onToolListChanged: (server) => toolListChanges.splice(0).forEach((resolve) => resolve(server)),
    });
    desk = { name: 'desk', transport: { type: 'http', url: fx.sandbox.addresses.mcp.url }, timeoutMs: 5_000 };
    activities = createMcpActivities([desk], connections, { ledger });
  });
  afterEach(() => {
    fx.sandbox.faults.mcp.clear();
  });
  afterAll(async () => {
    await connections?.close();
    await ledger?.close();
    await fx?.close();
  });

  it('lists the tools with stable digests, and derives their kinds from the annotations', async () => {
    const listed = await activities.mcpListTools({ server: 'desk' });
    expect(listed.server).toBe('desk');
    expect(listed.tools.map((t) => t.name)).toEqual([
      'create_ticket',
      'delete_ticket',
      'get_ticket',
      'list_tickets',
    ]);
    expect(listed.digest).toMatch(/^mcpl_[A-Za-z0-9_-]{32}$/);
    for (const tool of listed.tools) expect(tool.digest).toMatch(/^mcpt_[A-Za-z0-9_-]{32}$/);
    const create = listed.tools.find((t) => t.name === 'create_ticket')!;
    expect(create.inputSchema).toMatchObject({ required: ['ticket_ref', 'customer_id', 'subject'] });
    expect(create.description).toContain('intent key');
    // Listed again (from a second, independent connection): the same digests.
    const other = new McpConnections();
    try {
      expect(await listMcpTools(other, desk)).toEqual(listed);
    } finally {
      await other.close();
    }

    const kinds = Object.fromEntries(listed.tools.map((t) => [t.name, mcpToolKind(t)]));
    expect(kinds).toEqual({
      create_ticket: 'effect', // idempotentHint: false
      delete_ticket: 'effect', // destructiveHint: true
      get_ticket: 'read', // readOnlyHint: true
      list_tickets: 'read',
    });
    // The user's declaration wins; without annotations, or with contradictory ones, a tool is an effect.
    expect(mcpToolKind(create, 'read')).toBe('read');
    expect(
      mcpToolKind(
        listed.tools.find((t) => t.name === 'get_ticket')!,
        'effect',
      ),
    ).toBe('effect');
    const bare = toToolInfo({ name: 'x', inputSchema: { type: 'object' } });
    expect(bare.annotations).toBeUndefined();
    expect(mcpToolKind(bare)).toBe('effect');
    expect(mcpToolKind({ annotations: { readOnlyHint: true, destructiveHint: true } })).toBe('effect');
    expect(mcpToolKind({ annotations: { readOnlyHint: false, idempotentHint: true } })).toBe('effect');
    // A changed description is a changed tool.
    expect(toToolInfo({ ...bare, description: 'other' }).digest).not.toBe(bare.digest);
  });

  it('refuses an unknown server name as a configuration error', async () => {
    const failure = await failureOf(activities.mcpListTools({ server: 'nope' }));
    expect(failure).toMatchObject({ type: 'MCP_SERVER_CONFIG', nonRetryable: true });
  });

  it('calls a read without a key', async () => {
    const created = await activities.mcpCallTool({
      server: 'desk',
      tool: 'create_ticket',
      arguments: newTicket(),
    });
    expect(created).toMatchObject({ outcome: 'unkeyed', result: { isError: false, serverReplayed: false } });
    const ticket = (created.result.structuredContent as { ticket: { id: string } }).ticket;
    const read = await activities.mcpCallTool({
      server: 'desk',
      tool: 'get_ticket',
      arguments: { ticket_id: ticket.id },
    });
    expect(read.outcome).toBe('unkeyed');
    expect(read.key).toBeUndefined();
    expect(read.result.structuredContent).toEqual({ ticket });
    expect(JSON.parse(read.result.text)).toEqual({ ticket });
  });

  it('an effect called twice with one intent: one ticket, the second answer replayed by the ledger', async () => {
    const args = newTicket();
    const intent = createIntent(scope(), args);
    const call = () =>
      activities.mcpCallTool({ server: 'desk', tool: 'create_ticket', arguments: args, intent });
    const first = await call();
    expect(first).toMatchObject({ outcome: 'executed', key: intent.key, result: { isError: false } });
    const second = await call();
    expect(second).toEqual({ ...first, outcome: 'replayed' });
    expect(await ticketsWithRef(args.ticket_ref)).toBe(1);
    // The server heard of the effect once, with the key in _meta.
    expect(await callsWithKey(intent.key)).toEqual([
      { tool: 'create_ticket', outcome: 'effect', fault: null },
    ]);
    expect(await ledger.get(intent.key)).toMatchObject({
      status: 'succeeded',
      operation: 'create_ticket',
      response: first.result,
    });
    expect(INTENT_KEY_META).toBe('dev.onceflow/intent-key');
  });

  it('the same key with other terms is IDEMPOTENCY_KEY_REUSED, and the server is not called', async () => {
    const taskScope = scope();
    const args = newTicket();
    await activities.mcpCallTool({
      server: 'desk',
      tool: 'create_ticket',
      arguments: args,
      intent: createIntent(taskScope, args),
    });
    const otherTerms = { ...args, customer_id: fresh('cust') };
    const intent = createIntent(taskScope, otherTerms);
    const failure = await failureOf(
      activities.mcpCallTool({ server: 'desk', tool: 'create_ticket', arguments: otherTerms, intent }),
    );
    expect(failure).toMatchObject({ type: 'IDEMPOTENCY_KEY_REUSED', nonRetryable: true });
    expect(failure.details?.at(-1)).toEqual(TOLD_TO_MODEL);
    expect(await callsWithKey(intent.key)).toHaveLength(1);
    expect(await ticketsWithRef(args.ticket_ref)).toBe(1);
  });

  it('drop_after_commit: the first call fails retryable, the retry with the intent replays: one ticket', async () => {
    const args = newTicket();
    const intent = createIntent(scope(), args);
    fx.sandbox.faults.mcp.set([{ match: { tool: 'create_ticket' }, fault: 'drop_after_commit' }]);
    const call = () =>
      activities.mcpCallTool({ server: 'desk', tool: 'create_ticket', arguments: args, intent });
    const failure = await failureOf(call());
    expect(failure).toMatchObject({ type: 'MCP_UNAVAILABLE', nonRetryable: false });
    expect(failure.message).toContain('fetch failed');
    // Committed downstream; the ledger released its claim (outcome unknown to it), keeping the terms.
    expect(await ticketsWithRef(args.ticket_ref)).toBe(1);
    expect(await ledger.get(intent.key)).toMatchObject({ status: 'in_progress', leaseExpiresAt: null });

    const retried = await call(); // what Temporal's retry of the activity does
    expect(retried).toMatchObject({ outcome: 'executed', result: { isError: false, serverReplayed: true } });
    expect(await ticketsWithRef(args.ticket_ref)).toBe(1);
    expect((await callsWithKey(intent.key)).map((c) => c.outcome)).toEqual(['effect', 'replayed']);
    expect(await ledger.get(intent.key)).toMatchObject({ status: 'succeeded', attempts: 2 });
  });

  it('a worker that crashed after the server committed: resume re-sends the key and the server replays', async () => {
    const crashAfterCommit = async (args: Record<string, unknown>, recovery: EffectSpec['recovery']) => {
      const intent = effectIntent(scope(), { ...CREATE_TICKET, recovery }, args);
      // The crashed attempt: it claimed the key, the server committed under it, and no outcome was recorded.
      void ledger.once({ ...intent, operation: 'create_ticket', recovery, leaseMs: 100 }, async ({ key }) => {
        await connections
          .connection(desk)
          .callTool({ name: 'create_ticket', arguments: args, _meta: { [INTENT_KEY_META]: key } });
        return hangs();
      });
      await claimExpired(ledger, intent.key);
      await expect.poll(() => ticketsWithRef(String(args.ticket_ref))).toBe(1);
      return intent;
    };
    const args = newTicket();
    const intent = await crashAfterCommit(args, 'resume');
    const recovered = await activities.mcpCallTool({
      server: 'desk',
      tool: 'create_ticket',
      arguments: args,
      intent,
    });
    expect(recovered).toMatchObject({
      outcome: 'recovered',
      result: { isError: false, serverReplayed: true },
    });
    expect(await ticketsWithRef(args.ticket_ref)).toBe(1);
    expect(await ledger.get(intent.key)).toMatchObject({ status: 'succeeded', recoveredBy: 'resume' });

    // A tool declared `escalate` (a server that does not honour keys) is left to a person instead.
    const other = newTicket();
    const escalated = await crashAfterCommit(other, 'escalate');
    const failure = await failureOf(
      activities.mcpCallTool({ server: 'desk', tool: 'create_ticket', arguments: other, intent: escalated }),
    );
    expect(failure).toMatchObject({ type: 'OUTCOME_UNKNOWN', nonRetryable: true });
    expect(await ticketsWithRef(other.ticket_ref)).toBe(1);
  });

  it('fail_before_commit and a hang that times out are retryable; the retry performs once', async () => {
    const args = newTicket();
    const intent = createIntent(scope(), args);
    const spec: McpServerSpec = { ...desk, timeoutMs: 300 };
    const call = () =>
      callMcpTool(connections, spec, { tool: 'create_ticket', arguments: args, intent }, { ledger });
    fx.sandbox.faults.mcp.set([{ match: { tool: 'create_ticket' }, fault: 'fail_before_commit' }]);
    expect(await failureOf(call())).toMatchObject({ type: 'MCP_UNAVAILABLE', nonRetryable: false });
    fx.sandbox.faults.mcp.set([{ match: { tool: 'create_ticket' }, fault: 'hang' }]);
    const timedOut = await failureOf(call());
    expect(timedOut).toMatchObject({ type: 'MCP_UNAVAILABLE', nonRetryable: false });
    expect(timedOut.message).toContain('timed out');
    expect(await ticketsWithRef(args.ticket_ref)).toBe(0);
    expect(await call()).toMatchObject({
      outcome: 'executed',
      result: { isError: false, serverReplayed: false },
    });
    expect(await ticketsWithRef(args.ticket_ref)).toBe(1);
  });

  it('an isError answer is returned for the model, and does not use up the key', async () => {
    const taskScope = scope();
    // Bad free text (subject is neither identity nor stable): the fixed call has the same key and terms.
    const bad = { ...newTicket(), subject: '' };
    const intent = createIntent(taskScope, bad);
    const refused = await activities.mcpCallTool({
      server: 'desk',
      tool: 'create_ticket',
      arguments: bad,
      intent,
    });
    expect(refused).toMatchObject({ outcome: 'tool_error', key: intent.key, result: { isError: true } });
    expect(refused.result.text).toContain('subject');
    // The tool did nothing: the ledger forgot the claim, the key is unused.
    expect(await ledger.get(intent.key)).toBeUndefined();
    const fixed = { ...bad, subject: 'Parcel late' };
    expect(createIntent(taskScope, fixed)).toEqual(intent);
    const done = await activities.mcpCallTool({
      server: 'desk',
      tool: 'create_ticket',
      arguments: fixed,
      intent,
    });
    expect(done).toMatchObject({ outcome: 'executed', result: { isError: false } });
    expect(await ticketsWithRef(bad.ticket_ref)).toBe(1);

    // A bad stable field: the corrected call has other terms under the same key, and it works, since the
    // refused call left nothing in the ledger (a stale refusal would make the ticket impossible to open).
    const badTerms = { ...newTicket(), customer_id: '' };
    const badIntent = createIntent(taskScope, badTerms);
    const refusedTerms = await activities.mcpCallTool({
      server: 'desk',
      tool: 'create_ticket',
      arguments: badTerms,
      intent: badIntent,
    });
    expect(refusedTerms.result.isError).toBe(true);
    const fixedTerms = { ...badTerms, customer_id: fresh('cust') };
    const fixedIntent = createIntent(taskScope, fixedTerms);
    expect(fixedIntent.key).toBe(badIntent.key);
    expect(fixedIntent.fingerprint).not.toBe(badIntent.fingerprint);
    const created = await activities.mcpCallTool({
      server: 'desk',
      tool: 'create_ticket',
      arguments: fixedTerms,
      intent: fixedIntent,
    });
    expect(created.outcome).toBe('executed');
    expect(await ticketsWithRef(fixedTerms.ticket_ref)).toBe(1);
    // Once done, the key keeps its terms: a third call with yet other terms is a conflict.
    const otherTerms = { ...fixedTerms, customer_id: fresh('cust') };
    const reused = await failureOf(
      activities.mcpCallTool({
        server: 'desk',
        tool: 'create_ticket',
        arguments: otherTerms,
        intent: createIntent(taskScope, otherTerms),
      }),
    );
    expect(reused.type).toBe('IDEMPOTENCY_KEY_REUSED');
  });

  it('an unknown tool is a terminal MCP_REQUEST_REJECTED told to the model; the claim is forgotten', async () => {
    const plain = await failureOf(
      activities.mcpCallTool({ server: 'desk', tool: 'no_such_tool', arguments: {} }),
    );
    expect(plain).toMatchObject({ type: 'MCP_REQUEST_REJECTED', nonRetryable: true });
    expect(plain.details).toEqual([{ server: 'desk', tool: 'no_such_tool', mcpCode: -32602 }, TOLD_TO_MODEL]);
    const intent = effectIntent(scope(), { ...CREATE_TICKET, tool: 'no_such_tool' }, newTicket());
    const keyed = await failureOf(
      activities.mcpCallTool({ server: 'desk', tool: 'no_such_tool', arguments: newTicket(), intent }),
    );
    expect(keyed).toMatchObject({ type: 'MCP_REQUEST_REJECTED', nonRetryable: true });
    expect(await ledger.get(intent.key)).toBeUndefined();
  });

  it('a tool changed on the server is refused with MCP_TOOL_LIST_CHANGED before it is sent', async () => {
    const before = await activities.mcpListTools({ server: 'desk' });
    const digestOf = (name: string) => before.tools.find((t) => t.name === name)!.digest;
    const taskScope = scope();
    const doneArgs = newTicket();
    const doneIntent = createIntent(taskScope, doneArgs);
    const expectCreate = digestOf('create_ticket');
    await activities.mcpCallTool({
      server: 'desk',
      tool: 'create_ticket',
      arguments: doneArgs,
      intent: doneIntent,
      expectDigest: expectCreate,
    });

    const changed = nextToolListChange();
    const switched = await admin('/__admin/tools', {
      method: 'POST',
      body: JSON.stringify({ variant: 'v2' }),
    });
    expect(switched.status).toBe(200);
    try {
      expect(await changed).toBe('desk');
      const args = { ...newTicket(), priority: 'high' };
      const intent = createIntent(taskScope, args);
      const failure = await failureOf(
        activities.mcpCallTool({
          server: 'desk',
          tool: 'create_ticket',
          arguments: args,
          intent,
          expectDigest: expectCreate,
        }),
      );
      expect(failure).toMatchObject({ type: 'MCP_TOOL_LIST_CHANGED', nonRetryable: true });
      expect(failure.message).toContain('"create_ticket"');
      const details = failure.details?.[0] as { expectedDigest: string; currentDigest: string | null };
      expect(details.expectedDigest).toBe(expectCreate);
      expect(details.currentDigest).toMatch(/^mcpt_/);
      expect(details.currentDigest).not.toBe(expectCreate);
      expect(await callsWithKey(intent.key)).toEqual([]);
      expect(await ticketsWithRef(args.ticket_ref)).toBe(0);

      // An unchanged tool of the changed list still works; a done effect still replays.
      const read = await activities.mcpCallTool({
        server: 'desk',
        tool: 'list_tickets',
        arguments: { customer_id: doneArgs.customer_id },
        expectDigest: digestOf('list_tickets'),
      });
      expect((read.result.structuredContent as { tickets: unknown[] }).tickets).toHaveLength(1);
      const replayed = await activities.mcpCallTool({
        server: 'desk',
        tool: 'create_ticket',
        arguments: doneArgs,
        intent: doneIntent,
        expectDigest: expectCreate,
      });
      expect(replayed.outcome).toBe('replayed');
      // A tool no longer listed.
      const gone = await failureOf(
        activities.mcpCallTool({
          server: 'desk',
          tool: 'close_ticket',
          arguments: {},
          expectDigest: 'mcpt_x',
        }),
      );
      expect(gone.message).toContain('no longer listed');

      // Listed again, the session gets the new digest and the call goes through.
      const after = await activities.mcpListTools({ server: 'desk' });
      expect(after.digest).not.toBe(before.digest);
      const created = await activities.mcpCallTool({
        server: 'desk',
        tool: 'create_ticket',
        arguments: args,
        intent,
        expectDigest: after.tools.find((t) => t.name === 'create_ticket')!.digest,
      });
      expect(created.outcome).toBe('executed');
    } finally {
      await admin('/__admin/tools', { method: 'POST', body: JSON.stringify({ variant: 'v1' }) });
    }
  });

  it('a lost HTTP session: listTools reconnects and lists; a tools/call on it fails retryable, never re-sent', async () => {
    const conn = connections.connection(desk);
    await activities.mcpListTools({ server: 'desk' });
    const deleteSession = async () => {
      const sessionId = conn.sessionId;
      expect(sessionId).toBeDefined();
      const res = await admin('/mcp', { method: 'DELETE', headers: { 'mcp-session-id': sessionId! } });
      expect(res.status).toBe(200);
      return sessionId;
    };

    const lost = await deleteSession();
    expect((await activities.mcpListTools({ server: 'desk' })).tools).toHaveLength(4);
    expect(conn.sessionId).toBeDefined();
    expect(conn.sessionId).not.toBe(lost);

    await deleteSession();
    const args = newTicket();
    const intent = createIntent(scope(), args);
    const call = () =>
      activities.mcpCallTool({ server: 'desk', tool: 'create_ticket', arguments: args, intent });
    const failure = await failureOf(call());
    expect(failure).toMatchObject({ type: 'MCP_UNAVAILABLE', nonRetryable: false });
    expect(failure.details?.[0]).toMatchObject({ mcpCode: 404 });
    expect(await ticketsWithRef(args.ticket_ref)).toBe(0);
    expect(await call()).toMatchObject({ outcome: 'executed' });
    expect(await ticketsWithRef(args.ticket_ref)).toBe(1);
  });

  it('a restarted server: listTools reconnects on the 404 of the old session', async () => {
    const faults = new FaultController();
    let server = await startMcpServer({ pool: fx.pool, host: '127.0.0.1', port: 0, faults });
    const port = server.port;
    const own = new McpConnections();
    const spec: McpServerSpec = { name: 'restarting', transport: { type: 'http', url: server.url } };
    try {
      const first = await listMcpTools(own, spec);
      const session = own.connection(spec).sessionId;
      await server.close();
      // Down: retryable.
      const down = await failureOf(listMcpTools(own, spec));
      expect(down).toMatchObject({ type: 'MCP_UNAVAILABLE', nonRetryable: false });
      server = await startMcpServer({ pool: fx.pool, host: '127.0.0.1', port, faults });
      expect(await listMcpTools(own, spec)).toEqual(first);
      expect(own.connection(spec).sessionId).not.toBe(session);
    } finally {
      await own.close();
      await server.close();
    }
  });

  it('stdio: a server process that exits is a retryable failure, and the next request starts it again', async () => {
    const stdio = (faults?: unknown[]): McpServerSpec => ({
      name: 'desk-stdio',
      transport: {
        type: 'stdio',
        command: process.execPath,
        args: ['--import', 'tsx', 'src/sandbox/mcp-stdio.ts'],
        cwd: ROOT,
        env: {
          DATABASE_URL: inject('databaseUrl'),
          ...(faults ? { SANDBOX_MCP_FAULTS: JSON.stringify(faults) } : {}),
        },
      },
      timeoutMs: 20_000,
    });
    const dropping = stdio([{ match: { tool: 'create_ticket' }, fault: 'drop_after_commit' }]);
    const args = newTicket();
    const intent = createIntent(scope(), args);
    const failure = await failureOf(
      callMcpTool(connections, dropping, { tool: 'create_ticket', arguments: args, intent }, { ledger }),
    );
    expect(failure).toMatchObject({ type: 'MCP_UNAVAILABLE', nonRetryable: false });
    expect(failure.details?.[0]).toMatchObject({ mcpCode: -32000 });
    expect(await ticketsWithRef(args.ticket_ref)).toBe(1);
    // The session is gone with the process: the next request spawns the server again.
    expect((await listMcpTools(connections, dropping)).tools).toHaveLength(4);
    // The same name with another spec (no fault) replaces the connection; the retry replays.
    const retried = await callMcpTool(
      connections,
      stdio(),
      { tool: 'create_ticket', arguments: args, intent },
      { ledger },
    );
    expect(retried).toMatchObject({ outcome: 'executed', result: { serverReplayed: true } });
    expect(await ticketsWithRef(args.ticket_ref)).toBe(1);
  });

  it('a stdio command that does not exist is a terminal configuration error', async () => {
    const spec: McpServerSpec = {
      name: 'missing',
      transport: { type: 'stdio', command: '/nonexistent/onceflow-mcp-server' },
    };
    const failure = await failureOf(listMcpTools(connections, spec));
    expect(failure).toMatchObject({ type: 'MCP_SERVER_CONFIG', nonRetryable: true });
  });
});
