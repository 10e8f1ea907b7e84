import { ApplicationFailure } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { resolveArguments, type StepRecord } from '../../src/mcp/arguments.js';
import type { McpToolResult } from '../../src/mcp/call.js';
import {
  argumentRefs,
  declaredKind,
  mcpServer,
  type McpServerUse,
  type McpToolDeclaration,
} from '../../src/mcp/declare.js';
import { McpCompensationArgumentsError } from '../../src/mcp/errors.js';
import { toToolList, type ListedTool, type McpToolInfo, type McpToolList } from '../../src/mcp/tool-info.js';
import type { PreparedCall, Tool, ToolContext } from '../../src/tools/define.js';
import { effectIntent } from '../../src/tools/intent.js';
import { buildMcpTools, MCP_TOOL_DECLARATION } from '../../src/workflows/mcp-tools.js';

/** The error `fn` throws; fails the test when it throws nothing. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

// --- a hand-written listing shaped like the sandbox desk's, plus an undeclared effect ------------------

const READ_HINTS = { readOnlyHint: true, openWorldHint: false };

const LISTED: ListedTool[] = [
  {
    name: 'create_ticket',
    title: 'Create ticket',
    description: 'Open a support ticket.',
    inputSchema: {
      type: 'object',
      properties: {
        ticket_ref: { type: 'string' },
        customer_id: { type: 'string' },
        subject: { type: 'string' },
        body: { type: 'string' },
      },
      required: ['ticket_ref', 'customer_id', 'subject'],
    },
    annotations: {
      title: 'Create ticket',
      readOnlyHint: false,
      destructiveHint: false,
      idempotentHint: false,
      openWorldHint: false,
    },
  },
  {
    name: 'delete_ticket',
    title: 'Delete ticket',
    description: 'Delete a ticket (undoes create_ticket).',
    inputSchema: {
      type: 'object',
      properties: { ticket_id: { type: 'string' } },
      required: ['ticket_id'],
    },
    annotations: {
      title: 'Delete ticket',
      readOnlyHint: false,
      destructiveHint: true,
      idempotentHint: true,
      openWorldHint: false,
    },
  },
  {
    name: 'get_ticket',
    title: 'Get ticket',
    description: 'Fetch one ticket by id.',
    inputSchema: { type: 'object', properties: { ticket_id: { type: 'string' } }, required: ['ticket_id'] },
    annotations: { ...READ_HINTS, title: 'Get ticket' },
  },
  {
    name: 'list_tickets',
    description: "List a customer's open tickets.",
    inputSchema: {
      type: 'object',
      properties: { customer_id: { type: 'string' } },
      required: ['customer_id'],
    },
    annotations: READ_HINTS,
  },
  {
    name: 'close_account',
    description: "Close a customer's account.",
    inputSchema: {
      type: 'object',
      properties: { account_id: { type: 'string' }, reason: { type: 'string' } },
      required: ['account_id', 'reason'],
    },
    annotations: { destructiveHint: true },
  },
];

const LIST: McpToolList = toToolList('desk', LISTED);

function infoNamed(name: string, list: McpToolList = LIST): McpToolInfo {
  const info = list.tools.find((t) => t.name === name);
  if (!info) throw new Error(`no listed tool ${name}`);
  return info;
}

interface Policy {
  approveTickets: boolean;
}

const CREATE_TICKET: McpToolDeclaration<Policy> = {
  identity: ['ticket_ref'],
  stable: ['customer_id', 'subject'],
  compensation: {
    tool: 'delete_ticket',
    arguments: { ticket_id: { $result: 'structuredContent.ticket.id' } },
    undo: 'delete the ticket',
  },
  approval: (_args, policy) => (policy.approveTickets ? 'tickets of this task need approval' : undefined),
};

/** The desk as the example support agent declares it, with overrides. */
function desk(overrides: Partial<McpServerUse<Policy>> = {}): McpServerUse<Policy> {
  return mcpServer<Policy>({
    server: 'desk',
    tools: { create_ticket: CREATE_TICKET, delete_ticket: { identity: ['ticket_id'] } },
    ...overrides,
  });
}

const ctx: ToolContext = {
  keyOf: () => {
    throw new Error('not used by MCP tools');
  },
};

function toolNamed(tools: readonly Tool[], name: string): Tool {
  const tool = tools.find((t) => t.name === name);
  if (!tool) throw new Error(`no tool ${name} among ${tools.map((t) => t.name).join(', ')}`);
  return tool;
}

function prepared(tool: Tool, raw: unknown): PreparedCall {
  const result = tool.prepare(raw, ctx);
  if ('issues' in result) throw new Error(`unexpected issues: ${result.issues}`);
  return result.call;
}

function issuesOf(tool: Tool, raw: unknown): string {
  const result = tool.prepare(raw, ctx);
  if (!('issues' in result)) throw new Error('expected issues');
  return result.issues;
}

function declarationFailure(fn: () => unknown): ApplicationFailure {
  const err = thrown(fn);
  expect(err).toBeInstanceOf(ApplicationFailure);
  const failure = err as ApplicationFailure;
  expect(failure.type).toBe(MCP_TOOL_DECLARATION);
  expect(failure.type).toBe('MCP_TOOL_DECLARATION');
  expect(failure.nonRetryable).toBe(true);
  return failure;
}

const ARGS = { ticket_ref: 'ref-1', customer_id: 'cus_1', subject: 'Broken widget', body: 'It broke.' };

// --- 1. mcpServer(): checks at definition time ---------------------------------------------------------

describe('mcpServer: declaration checks at definition time', () => {
  const declare = (name: string, decl: McpToolDeclaration) => () =>
    mcpServer({ server: 'desk', tools: { [name]: decl } });

  it('refuses an effect without identity, naming the tool', () => {
    for (const decl of [
      { kind: 'effect' },
      { kind: 'effect', identity: [] },
      { stable: ['subject'] },
      { compensation: { tool: 'delete_ticket', arguments: {}, undo: 'delete it' } },
    ] satisfies McpToolDeclaration[]) {
      expect(declare('create_ticket', decl)).toThrow(TypeError);
      expect(declare('create_ticket', decl)).toThrow(
        /^MCP server desk: tool create_ticket: an effect needs identity/,
      );
    }
  });

  it('refuses identity, stable fields, a compensation or an approval on a read', () => {
    for (const decl of [
      { kind: 'read', identity: ['ticket_id'] },
      { kind: 'read', stable: ['ticket_id'] },
      {
        kind: 'read',
        compensation: { tool: 'delete_ticket', arguments: {}, undo: 'delete it' },
      },
      { kind: 'read', approval: () => 'always' },
    ] satisfies McpToolDeclaration[]) {
      expect(declare('get_ticket', decl)).toThrow(TypeError);
      expect(declare('get_ticket', decl)).toThrow(
        /tool get_ticket: a read has no identity, stable fields, compensation or approval/,
      );
    }
  });

  it('refuses a tool that is its own compensation', () => {
    const fn = declare('create_ticket', {
      identity: ['ticket_ref'],
      compensation: { tool: 'create_ticket', arguments: {}, undo: 'create it again' },
    });
    expect(fn).toThrow(TypeError);
    expect(fn).toThrow(/tool create_ticket: a tool cannot be its own compensation/);
  });

  it('refuses a compensation that does not say what undoing means', () => {
    const fn = declare('create_ticket', {
      identity: ['ticket_ref'],
      compensation: { tool: 'delete_ticket', arguments: {}, undo: '' },
    });
    expect(fn).toThrow(TypeError);
    expect(fn).toThrow(/tool create_ticket: compensation.undo/);
  });

  it('refuses malformed reference paths in compensation arguments, naming tool, field and path', () => {
    const cases: [string, NonNullable<McpToolDeclaration['compensation']>['arguments'], string][] = [
      ['ticket_id', { ticket_id: { $result: 'a..b' } }, 'a..b'],
      ['ticket_id', { ticket_id: { $result: '' } }, ''],
      ['ticket_id', { ticket_id: { $arguments: '.ticket_ref' } }, '.ticket_ref'],
      ['ids', { ids: [{ $result: 'structuredContent.ticket.id ' }] }, 'structuredContent.ticket.id '],
      ['meta', { meta: { nested: { $arguments: 'a b' } } }, 'a b'],
    ];
    for (const [field, args, path] of cases) {
      const fn = declare('create_ticket', {
        identity: ['ticket_ref'],
        compensation: { tool: 'delete_ticket', arguments: args, undo: 'delete the ticket' },
      });
      expect(fn).toThrow(TypeError);
      expect(fn).toThrow(
        `MCP server desk: tool create_ticket: compensation argument ${field}: "${path}" is not a dot-separated path`,
      );
    }
  });

  it('refuses an invalid prefix and an empty server name', () => {
    for (const prefix of ['desk.', 'desk ', 'dé_', 'x'.repeat(33)]) {
      const fn = () => mcpServer({ server: 'desk', prefix });
      expect(fn).toThrow(TypeError);
      expect(fn).toThrow(/^MCP server desk: prefix must match/);
    }
    expect(() => mcpServer({ server: '' })).toThrow(TypeError);
    expect(() => mcpServer({ server: 'desk', prefix: 'x'.repeat(32) })).not.toThrow();
    expect(() => mcpServer({ server: 'desk', prefix: '' })).not.toThrow();
  });

  it('returns a valid declaration unchanged (the same object, not mutated)', () => {
    const use: McpServerUse<Policy> = {
      server: 'desk',
      prefix: 'desk_',
      only: ['create_ticket', 'get_ticket'],
      undeclared: 'approve',
      tools: {
        create_ticket: CREATE_TICKET,
        delete_ticket: { identity: ['ticket_id'], recovery: 'escalate', irreversible: true },
        get_ticket: { kind: 'read' },
        list_tickets: {},
      },
    };
    const before = JSON.stringify(use);
    expect(mcpServer(use)).toBe(use);
    expect(JSON.stringify(use)).toBe(before);
    expect(use.tools?.create_ticket).toBe(CREATE_TICKET);
  });

  it('finds the references of compensation arguments, and the kind a declaration implies', () => {
    expect(
      argumentRefs({
        a: { $result: 'structuredContent.ticket.id' },
        b: [{ $arguments: 'ticket_ref' }, 'literal', 3, null],
        c: { $result: 'x', other: 1 }, // two keys: a literal object, walked
      }),
    ).toEqual({ result: ['structuredContent.ticket.id'], args: ['ticket_ref'] });
    expect(declaredKind(undefined)).toBeUndefined();
    expect(declaredKind({})).toBeUndefined();
    expect(declaredKind({ identity: ['a'] })).toBe('effect');
    expect(declaredKind({ stable: ['a'] })).toBe('effect');
    expect(declaredKind({ kind: 'read' })).toBe('read');
  });
});

// --- 2. buildMcpTools(): Tools from a recorded listing and the declarations ---------------------------

describe('buildMcpTools: declared tools', () => {
  it('makes a declared effect an effect Tool keyed as declared, and reads read_only tools', () => {
    const { tools } = buildMcpTools([desk()], [LIST], new Set());
    const create = toolNamed(tools, 'create_ticket');
    expect(create.kind).toBe('effect');
    expect(create.activity).toBe('mcpEffectTool');
    expect(create.effect).toEqual({
      tool: 'mcp:desk/create_ticket',
      identityFields: ['ticket_ref'],
      stableFields: ['customer_id', 'subject'],
      recovery: 'resume',
    });
    expect(create.execution).toBe('regular');
    expect(create.irreversible).toBe(false);
    expect(create.undoes).toBeUndefined();
    expect(create.description).toBe('Create ticket: Open a support ticket.');
    expect(create.schema()).toEqual({
      name: 'create_ticket',
      description: 'Create ticket: Open a support ticket.',
      input_schema: infoNamed('create_ticket').inputSchema,
    });

    for (const name of ['get_ticket', 'list_tickets']) {
      const read = toolNamed(tools, name);
      expect(read.kind).toBe('read_only');
      expect(read.activity).toBe('mcpReadTool');
      expect(read.effect).toBeUndefined();
      expect(read.execution).toBe('regular');
    }
    expect(toolNamed(tools, 'list_tickets').description).toBe("List a customer's open tickets.");
  });

  it('keeps declared recovery, irreversibility and execution', () => {
    const use = desk({
      tools: {
        create_ticket: { ...CREATE_TICKET, recovery: 'escalate', irreversible: true, execution: 'local' },
        delete_ticket: { identity: ['ticket_id'] },
        get_ticket: { kind: 'read', execution: 'local' },
      },
    });
    const { tools } = buildMcpTools([use], [LIST], new Set());
    const create = toolNamed(tools, 'create_ticket');
    expect(create.effect).toEqual({
      tool: 'mcp:desk/create_ticket',
      identityFields: ['ticket_ref'],
      stableFields: ['customer_id', 'subject'],
      recovery: 'escalate',
      irreversible: true,
    });
    expect(create.irreversible).toBe(true);
    expect(create.execution).toBe('local');
    expect(toolNamed(tools, 'get_ticket').execution).toBe('local');
  });

  it('reports what it offers and withholds, with the digests', () => {
    const { tools, servers } = buildMcpTools([desk()], [LIST], new Set());
    expect(tools.map((t) => t.name).sort()).toEqual([
      'create_ticket',
      'delete_ticket',
      'get_ticket',
      'list_tickets',
    ]);
    expect(servers).toHaveLength(1);
    const [report] = servers;
    expect(report?.server).toBe('desk');
    expect(report?.digest).toBe(LIST.digest);
    expect(report?.offered).toContainEqual({
      name: 'create_ticket',
      tool: 'create_ticket',
      kind: 'effect',
      digest: infoNamed('create_ticket').digest,
      keyed: ['ticket_ref'],
    });
    expect(report?.offered).toContainEqual({
      name: 'get_ticket',
      tool: 'get_ticket',
      kind: 'read',
      digest: infoNamed('get_ticket').digest,
      keyed: [],
    });
    expect(report?.withheld).toEqual([{ tool: 'close_account', reason: expect.any(String) as string }]);
  });

  it('is deterministic: the same listing and declarations give the same tools', () => {
    const a = buildMcpTools([desk()], [LIST], new Set());
    const b = buildMcpTools([desk()], [toToolList('desk', [...LISTED].reverse())], new Set());
    expect(b.servers).toEqual(a.servers);
    expect(b.tools.map((t) => [t.name, t.effect])).toEqual(a.tools.map((t) => [t.name, t.effect]));
  });
});

describe('buildMcpTools: undeclared effects', () => {
  it('withholds an undeclared effect by default, with a reason', () => {
    const { tools, servers } = buildMcpTools([desk()], [LIST], new Set());
    expect(tools.map((t) => t.name)).not.toContain('close_account');
    const withheld = servers[0]?.withheld.find((w) => w.tool === 'close_account');
    expect(withheld?.reason).toMatch(/without declared identity/);
  });

  it('withholds undeclared effects under an explicit refuse, and every unannotated tool is an effect', () => {
    const bare = toToolList('bare', [
      { name: 'do_thing', inputSchema: { type: 'object', properties: { x: {} } } },
      {
        name: 'contradiction',
        inputSchema: { type: 'object' },
        annotations: { readOnlyHint: true, destructiveHint: true },
      },
      { name: 'peek', inputSchema: { type: 'object' }, annotations: { readOnlyHint: true } },
    ]);
    const { tools, servers } = buildMcpTools([{ server: 'bare', undeclared: 'refuse' }], [bare], new Set());
    expect(tools.map((t) => t.name)).toEqual(['peek']);
    expect(servers[0]?.withheld.map((w) => w.tool).sort()).toEqual(['contradiction', 'do_thing']);
  });

  it('offers it with undeclared: "approve", keyed by all of its arguments, each call needing a person', () => {
    const { tools, servers } = buildMcpTools([desk({ undeclared: 'approve' })], [LIST], new Set());
    const close = toolNamed(tools, 'close_account');
    expect(close.kind).toBe('effect');
    expect(close.activity).toBe('mcpEffectTool');
    expect(close.effect).toEqual({
      tool: 'mcp:desk/close_account',
      identityFields: ['account_id', 'reason'],
      stableFields: [],
      recovery: 'resume',
    });
    expect(servers[0]?.withheld).toEqual([]);
    expect(servers[0]?.offered).toContainEqual(
      expect.objectContaining({ name: 'close_account', keyed: ['account_id', 'reason'] }),
    );
    const call = prepared(close, { account_id: 'acc_1', reason: 'asked by the customer' });
    const reason = call.approvalReason(undefined);
    expect(typeof reason).toBe('string');
    expect(reason).toMatch(/desk\/close_account/);
    expect(call.compensation).toBeUndefined();
    expect(issuesOf(close, { reason: 'x' })).toMatch(/account_id: required/);
  });

  it('still withholds an undeclared effect with no arguments under approve (nothing to key it by)', () => {
    const list = toToolList('ops', [
      { name: 'reboot', inputSchema: { type: 'object' }, annotations: { destructiveHint: true } },
    ]);
    const { tools, servers } = buildMcpTools([{ server: 'ops', undeclared: 'approve' }], [list], new Set());
    expect(tools).toEqual([]);
    expect(servers[0]?.withheld.map((w) => w.tool)).toEqual(['reboot']);
  });

  it('makes declared tools ask approval only by their own rule', () => {
    const { tools } = buildMcpTools([desk({ undeclared: 'approve' })], [LIST], new Set());
    const call = prepared(toolNamed(tools, 'create_ticket'), ARGS);
    expect(call.approvalReason({ approveTickets: true })).toBe('tickets of this task need approval');
    expect(call.approvalReason({ approveTickets: false })).toBeUndefined();
    expect(
      prepared(toolNamed(tools, 'delete_ticket'), { ticket_id: 't' }).approvalReason({}),
    ).toBeUndefined();
  });
});

describe('buildMcpTools: prefix and only', () => {
  it('renames offered tools with the prefix but keeps the effect name, so keys do not change', () => {
    const plain = buildMcpTools([desk()], [LIST], new Set());
    const prefixed = buildMcpTools([desk({ prefix: 'desk_' })], [LIST], new Set());
    expect(prefixed.tools.map((t) => t.name).sort()).toEqual([
      'desk_create_ticket',
      'desk_delete_ticket',
      'desk_get_ticket',
      'desk_list_tickets',
    ]);
    const a = toolNamed(plain.tools, 'create_ticket');
    const b = toolNamed(prefixed.tools, 'desk_create_ticket');
    expect(b.schema().name).toBe('desk_create_ticket');
    expect(b.effect?.tool).toBe('mcp:desk/create_ticket');
    expect(b.effect).toEqual(a.effect);
    expect(prefixed.servers[0]?.offered).toContainEqual(
      expect.objectContaining({ name: 'desk_create_ticket', tool: 'create_ticket' }),
    );

    const callA = prepared(a, ARGS);
    const callB = prepared(b, ARGS);
    // The server is called with the tool's own name, not the prefixed one.
    expect(callB.request).toEqual(callA.request);
    expect((callB.request as { tool: string }).tool).toBe('create_ticket');
    if (!a.effect || !b.effect) throw new Error('expected effects');
    const intentA = effectIntent('task-1', a.effect, callA.activityInput);
    const intentB = effectIntent('task-1', b.effect, callB.activityInput);
    expect(intentB.key).toBe(intentA.key);
    expect(intentB.fingerprint).toBe(intentA.fingerprint);
    expect(intentB).toEqual(intentA);
    // and the key does depend on the identity and the server
    expect(effectIntent('task-1', a.effect, { ...ARGS, ticket_ref: 'ref-2' }).key).not.toBe(intentA.key);
    const other = buildMcpTools([desk({ server: 'desk2' })], [toToolList('desk2', LISTED)], new Set());
    const otherEffect = toolNamed(other.tools, 'create_ticket').effect;
    if (!otherEffect) throw new Error('expected an effect');
    expect(effectIntent('task-1', otherEffect, ARGS).key).not.toBe(intentA.key);
  });

  it('offers only the tools in only, withholding the rest', () => {
    const { tools, servers } = buildMcpTools([desk({ only: ['get_ticket'] })], [LIST], new Set());
    expect(tools.map((t) => t.name)).toEqual(['get_ticket']);
    expect(servers[0]?.offered.map((o) => o.tool)).toEqual(['get_ticket']);
    expect(servers[0]?.withheld).toEqual(
      ['close_account', 'create_ticket', 'delete_ticket', 'list_tickets'].map((tool) => ({
        tool,
        reason: 'not in only',
      })),
    );
  });

  it('lets a compensation call a tool that only withholds', () => {
    const { tools } = buildMcpTools(
      [desk({ only: ['create_ticket'], tools: { create_ticket: CREATE_TICKET } })],
      [LIST],
      new Set(),
    );
    expect(tools.map((t) => t.name)).toEqual(['create_ticket']);
    const comp = prepared(toolNamed(tools, 'create_ticket'), ARGS).compensation?.('ik_step');
    expect(comp?.input).toMatchObject({
      tool: 'delete_ticket',
      expectDigest: infoNamed('delete_ticket').digest,
    });
  });
});

describe('buildMcpTools: declarations that do not fit the listing', () => {
  it('throws one MCP_TOOL_DECLARATION failure naming every problem', () => {
    const use = mcpServer({
      server: 'desk',
      tools: {
        archive_ticket: { identity: ['ticket_id'] }, // not listed
        create_ticket: { identity: ['ticket_number'], stable: ['subject'] }, // not an argument
        delete_ticket: {
          identity: ['ticket_id'],
          compensation: { tool: 'restore_ticket', arguments: {}, undo: 'restore it' }, // not listed
        },
        close_account: { summary: () => 'close' }, // an effect by its annotations, without identity
      },
    });
    const failure = declarationFailure(() =>
      buildMcpTools([use, { server: 'billing' }], [LIST], new Set(['get_ticket'])),
    );
    const expected = [
      'desk: declared tool archive_ticket is not listed by the server',
      'desk: tool create_ticket has no argument ticket_number (declared as identity or stable)',
      'desk: restore_ticket, the compensation of delete_ticket, is not listed by the server',
      'desk: tool close_account is an effect (by its annotations): declare its identity',
      'desk: tool name get_ticket is taken by another tool (set a prefix)',
      'billing: no listing recorded',
    ];
    for (const problem of expected) expect(failure.message).toContain(problem);
    expect(failure.details).toEqual([{ problems: expect.arrayContaining(expected) as string[] }]);
    expect((failure.details?.[0] as { problems: string[] }).problems).toHaveLength(expected.length);
  });

  it('names a missing stable field like a missing identity field', () => {
    const use = mcpServer({
      server: 'desk',
      tools: { create_ticket: { identity: ['ticket_ref'], stable: ['amount'] } },
    });
    const failure = declarationFailure(() => buildMcpTools([use], [LIST], new Set()));
    expect(failure.message).toContain('desk: tool create_ticket has no argument amount');
  });

  it('reports a clash between two servers, which a prefix resolves', () => {
    const desk2 = toToolList('desk2', LISTED);
    const failure = declarationFailure(() =>
      buildMcpTools([desk(), desk({ server: 'desk2' })], [LIST, desk2], new Set()),
    );
    expect(failure.message).toContain('desk2: tool name create_ticket is taken by another tool');
    expect(() =>
      buildMcpTools([desk(), desk({ server: 'desk2', prefix: 'd2_' })], [LIST, desk2], new Set()),
    ).not.toThrow();
  });

  it('reports a prefixed name longer than a model tool name may be', () => {
    const long = 'list_all_the_open_tickets_of_a_customer'; // 39 characters, + 32 of prefix > 64
    const list = toToolList('desk', [
      { name: long, inputSchema: { type: 'object' }, annotations: READ_HINTS },
    ]);
    const failure = declarationFailure(() =>
      buildMcpTools([mcpServer({ server: 'desk', prefix: 'p'.repeat(32) })], [list], new Set()),
    );
    expect(failure.message).toContain(
      `desk: tool name ${'p'.repeat(32)}${long} is not a valid model tool name`,
    );
  });
});

describe('buildMcpTools: only and optional arguments', () => {
  it('reports a name in only that the server does not list, and checks declarations only withholds', () => {
    const failure = declarationFailure(() =>
      buildMcpTools(
        [
          mcpServer({
            server: 'desk',
            only: ['get_tickets'],
            tools: { get_ticket: { kind: 'read' }, create_ticket: { identity: ['nope'] } },
          }),
        ],
        [LIST],
        new Set(),
      ),
    );
    expect(failure.message).toContain('desk: get_tickets (in only) is not listed by the server');
    expect(failure.message).toContain('desk: tool create_ticket has no argument nope');
  });

  it('keys an undeclared effect by all of its arguments but requires only those its schema requires', () => {
    const list = toToolList('desk', [
      {
        name: 'close_account',
        description: 'Close an account.',
        inputSchema: {
          type: 'object',
          properties: { account_id: { type: 'string' }, reason: { type: 'string' } },
          required: ['account_id'],
        },
        annotations: { destructiveHint: true },
      },
    ]);
    const { tools } = buildMcpTools(
      [mcpServer({ server: 'desk', undeclared: 'approve' })],
      [list],
      new Set(),
    );
    const close = toolNamed(tools, 'close_account');
    expect(close.effect?.identityFields).toEqual(['account_id', 'reason']);
    const prepared = close.prepare({ account_id: 'a' }, ctx);
    expect('call' in prepared).toBe(true);
    expect(close.prepare({ reason: 'x' }, ctx)).toEqual({
      issues: 'account_id: required (it identifies the action)',
    });
    // An absent optional argument and a given one are two intents.
    const spec = close.effect!;
    expect(effectIntent('s', spec, { account_id: 'a' }).key).not.toBe(
      effectIntent('s', spec, { account_id: 'a', reason: 'x' }).key,
    );
  });
});

describe('resolveArguments: own properties only', () => {
  it('does not follow inherited names such as constructor or __proto__', () => {
    const step = {
      result: { text: '{}', structuredContent: {}, isError: false, serverReplayed: false },
      arguments: {},
    };
    for (const template of [
      { x: { $arguments: 'constructor' } },
      { x: { $result: 'structuredContent.__proto__' } },
      { x: { $result: 'structuredContent.toString' } },
    ])
      expect(() => resolveArguments(template, step, { server: 'desk', tool: 'delete_ticket' })).toThrow(
        /nothing at/,
      );
  });
});

describe('buildMcpTools: prepare()', () => {
  const { tools } = buildMcpTools([desk()], [LIST], new Set());
  const create = toolNamed(tools, 'create_ticket');

  it('refuses input that is not an object of arguments', () => {
    for (const raw of [null, undefined, 'ticket', 42, ['ref-1']])
      expect(issuesOf(create, raw)).toBe('(input): expected an object of arguments');
    expect(issuesOf(toolNamed(tools, 'get_ticket'), 'x')).toBe('(input): expected an object of arguments');
  });

  it('refuses a call without an identity field, naming it', () => {
    expect(issuesOf(create, { customer_id: 'cus_1', subject: 's' })).toBe(
      'ticket_ref: required (it identifies the action)',
    );
    expect(issuesOf(toolNamed(tools, 'delete_ticket'), {})).toMatch(/^ticket_id: required/);
  });

  it('leaves the rest of the validation to the server (stable fields may be absent)', () => {
    expect(prepared(create, { ticket_ref: 'ref-1' }).activityInput).toEqual({ ticket_ref: 'ref-1' });
    expect(prepared(toolNamed(tools, 'get_ticket'), {}).request).toMatchObject({ tool: 'get_ticket' });
  });

  it('binds a valid call to a request for the recorded tool', () => {
    const call = prepared(create, ARGS);
    expect(call.input).toEqual(ARGS);
    expect(call.activityInput).toEqual(ARGS);
    expect(call.request).toEqual({
      server: 'desk',
      tool: 'create_ticket',
      arguments: ARGS,
      expectDigest: infoNamed('create_ticket').digest,
    });
    expect(call.summary).toBe('desk/create_ticket ticket_ref=ref-1');
    expect(call.abort).toBeUndefined();

    const read = prepared(toolNamed(tools, 'get_ticket'), { ticket_id: 'tkt_1' });
    expect(read.request).toEqual({
      server: 'desk',
      tool: 'get_ticket',
      arguments: { ticket_id: 'tkt_1' },
      expectDigest: infoNamed('get_ticket').digest,
    });
    expect(read.summary).toBe('desk/get_ticket');
    expect(read.compensation).toBeUndefined();
    expect(read.approvalReason(undefined)).toBeUndefined();
  });

  it('uses a declared summary', () => {
    const use = desk({
      tools: {
        create_ticket: { ...CREATE_TICKET, summary: (a) => `open ticket ${String(a.ticket_ref)}` },
        delete_ticket: { identity: ['ticket_id'] },
      },
    });
    const built = buildMcpTools([use], [LIST], new Set());
    expect(prepared(toolNamed(built.tools, 'create_ticket'), ARGS).summary).toBe('open ticket ref-1');
  });

  it('binds the compensation: the undoing tool with its digest, and the step it undoes', () => {
    const call = prepared(create, ARGS);
    expect(call.compensation).toBeTypeOf('function');
    const bound = call.compensation?.('ik_step');
    expect(bound?.activity).toBe('mcpUndoTool');
    expect(bound?.undo).toBe('delete the ticket');
    expect(bound?.recovery).toBe('resume');
    expect(bound?.personAction).toBe('delete the ticket by hand (desk/create_ticket ticket_ref=ref-1)');
    expect(bound?.input).toEqual({
      server: 'desk',
      tool: 'delete_ticket',
      arguments: { ticket_id: { $result: 'structuredContent.ticket.id' } },
      expectDigest: infoNamed('delete_ticket').digest,
      step: {
        server: 'desk',
        tool: 'create_ticket',
        arguments: ARGS,
        expectDigest: infoNamed('create_ticket').digest,
        effect: create.effect,
      },
    });
    expect((bound?.input as { step: { effect: unknown } }).step.effect).toEqual({
      tool: 'mcp:desk/create_ticket',
      identityFields: ['ticket_ref'],
      stableFields: ['customer_id', 'subject'],
      recovery: 'resume',
    });
    // delete_ticket itself declares no compensation
    expect(prepared(toolNamed(tools, 'delete_ticket'), { ticket_id: 't' }).compensation).toBeUndefined();
  });

  it('uses a declared personAction', () => {
    const use = desk({
      tools: {
        create_ticket: {
          ...CREATE_TICKET,
          compensation: { ...CREATE_TICKET.compensation!, personAction: 'ask the desk team' },
        },
        delete_ticket: { identity: ['ticket_id'] },
      },
    });
    const built = buildMcpTools([use], [LIST], new Set());
    const bound = prepared(toolNamed(built.tools, 'create_ticket'), ARGS).compensation?.('ik');
    expect(bound?.personAction).toBe('ask the desk team');
  });
});

// --- 3. resolveArguments(): compensation argument templates -------------------------------------------

describe('resolveArguments', () => {
  const context = { server: 'desk', tool: 'delete_ticket' };
  const result: McpToolResult = {
    text: 'Opened ticket tkt_1',
    structuredContent: { ticket: { id: 'tkt_1', tags: ['a', 'b'], closed_at: null, count: 0 } },
    isError: false,
    serverReplayed: false,
  };
  const step: StepRecord = { result, arguments: { ticket_ref: 'ref-1', customer: { id: 'cus_1' } } };

  function resolutionError(fn: () => unknown): McpCompensationArgumentsError {
    const err = thrown(fn);
    expect(err).toBeInstanceOf(McpCompensationArgumentsError);
    const e = err as McpCompensationArgumentsError;
    expect(e.code).toBe('MCP_COMPENSATION_ARGUMENTS');
    expect(e.retryable).toBe(false);
    expect(e.server).toBe('desk');
    expect(e.tool).toBe('delete_ticket');
    return e;
  }

  it('reads the step result', () => {
    expect(
      resolveArguments({ ticket_id: { $result: 'structuredContent.ticket.id' } }, step, context),
    ).toEqual({ ticket_id: 'tkt_1' });
    expect(resolveArguments({ text: { $result: 'text' } }, step, context)).toEqual({
      text: 'Opened ticket tkt_1',
    });
    expect(resolveArguments({ tag: { $result: 'structuredContent.ticket.tags.1' } }, step, context)).toEqual({
      tag: 'b',
    });
  });

  it('passes null, 0 and whole objects found at a path', () => {
    expect(
      resolveArguments(
        {
          closed: { $result: 'structuredContent.ticket.closed_at' },
          count: { $result: 'structuredContent.ticket.count' },
          customer: { $arguments: 'customer' },
        },
        step,
        context,
      ),
    ).toEqual({ closed: null, count: 0, customer: { id: 'cus_1' } });
  });

  it("reads the step's arguments, with or without a result", () => {
    expect(resolveArguments({ ref: { $arguments: 'ticket_ref' } }, step, context)).toEqual({ ref: 'ref-1' });
    expect(
      resolveArguments(
        { customer_id: { $arguments: 'customer.id' } },
        { ...step, result: undefined },
        context,
      ),
    ).toEqual({ customer_id: 'cus_1' });
  });

  it('resolves references inside nested objects and arrays, and passes literals through', () => {
    const template = {
      ticket_id: { $result: 'structuredContent.ticket.id' },
      reason: 'compensation',
      force: true,
      attempts: 3,
      none: null,
      meta: { ref: { $arguments: 'ticket_ref' }, tags: ['undo', { $result: 'structuredContent.ticket.id' }] },
      literal: { $result: 'x', note: 'two keys: a literal object' },
    };
    expect(resolveArguments(template, step, context)).toEqual({
      ticket_id: 'tkt_1',
      reason: 'compensation',
      force: true,
      attempts: 3,
      none: null,
      meta: { ref: 'ref-1', tags: ['undo', 'tkt_1'] },
      literal: { $result: 'x', note: 'two keys: a literal object' },
    });
  });

  it('reads json.* from a JSON text', () => {
    const jsonStep: StepRecord = {
      result: { text: '{"ticket":{"id":"tkt_9"}}', isError: false, serverReplayed: false },
      arguments: {},
    };
    expect(resolveArguments({ ticket_id: { $result: 'json.ticket.id' } }, jsonStep, context)).toEqual({
      ticket_id: 'tkt_9',
    });
    // not JSON: json.* names nothing
    const e = resolutionError(() =>
      resolveArguments({ ticket_id: { $result: 'json.ticket.id' } }, step, context),
    );
    expect(e.message).toContain('ticket_id');
  });

  it('throws MCP_COMPENSATION_ARGUMENTS naming the field and the path when a path names nothing', () => {
    const e = resolutionError(() =>
      resolveArguments({ ticket_id: { $result: 'structuredContent.ticket.number' } }, step, context),
    );
    expect(e.message).toContain('compensation argument ticket_id');
    expect(e.message).toContain('structuredContent.ticket.number');

    const nested = resolutionError(() =>
      resolveArguments({ meta: { ids: [{ $arguments: 'ticket_number' }] } }, step, context),
    );
    expect(nested.message).toContain('compensation argument meta.ids.0');
    expect(nested.message).toContain('ticket_number');

    // a path through a string names nothing
    resolutionError(() => resolveArguments({ x: { $result: 'text.length' } }, step, context));
    // no structuredContent at all
    resolutionError(() =>
      resolveArguments(
        { ticket_id: { $result: 'structuredContent.ticket.id' } },
        { result: { text: 'ok', isError: false, serverReplayed: false }, arguments: {} },
        context,
      ),
    );
  });

  it('throws when a $result reference has no recorded result', () => {
    const e = resolutionError(() =>
      resolveArguments(
        { ticket_id: { $result: 'structuredContent.ticket.id' } },
        { result: undefined, arguments: { ticket_ref: 'ref-1' } },
        context,
      ),
    );
    expect(e.message).toContain('ticket_id');
    expect(e.message).toMatch(/no recorded result/);
  });
});
