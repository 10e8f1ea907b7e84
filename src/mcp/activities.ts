import { Context } from '@temporalio/activity';
import { currentLedger } from '../activities/effect-scope.js';
import { toApplicationFailure } from '../idempotency/failure.js';
import type { Ledger } from '../idempotency/ledger.js';
import type { EffectResult, Intent, Keyed } from '../tools/effects.js';
import { callMcpTool, toolErrorOf, type McpCallResult, type McpToolResult } from './call.js';
import type { McpConnections } from './connections.js';
import { McpServerConfigError } from './errors.js';
import { undoMcpStep, type McpUndoResult } from './undo.js';
import type { McpToolRequest, McpUndoRequest } from './requests.js';
import type { McpServerSpec } from './server-spec.js';
import { listMcpTools } from './tools.js';

export type { McpUndoResult } from './undo.js';
import type { McpToolList } from './tool-info.js';

/** Finds a server's spec by name (from the agent definitions, configuration, a secret store). */
export type McpServerResolver = (
  name: string,
) => McpServerSpec | undefined | Promise<McpServerSpec | undefined>;

/** Input of the `mcpListTools` activity. */
export interface McpListToolsInput {
  server: string;
}

/** Input of the `mcpCallTool` activity. */
export interface McpCallToolInput {
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
  /** The intent of an effect tool (see `callMcpTool`); absent for a read. */
  intent?: Intent | undefined;
  /** The tool's digest as the session recorded it. */
  expectDigest?: string | undefined;
}

/** Options of {@link createMcpActivities}. */
export interface McpActivitiesOptions {
  /** The ledger of keyed calls; default the worker plugin's (found through the activity's scope). */
  ledger?: Ledger;
}

function resolverOf(servers: readonly McpServerSpec[] | McpServerResolver): McpServerResolver {
  if (typeof servers === 'function') return servers;
  const byName = new Map<string, McpServerSpec>();
  for (const spec of servers) {
    if (byName.has(spec.name)) throw new TypeError(`MCP server "${spec.name}" is declared twice`);
    byName.set(spec.name, spec);
  }
  return (name) => byName.get(name);
}

/** The running activity's cancellation signal, so a cancelled activity cancels its MCP request. */
function cancellation(): AbortSignal | undefined {
  try {
    return Context.current().cancellationSignal;
  } catch {
    return undefined; // called outside an activity (tests)
  }
}

/**
 * The MCP activities a worker registers (the onceflow plugin does): `mcpListTools` (a session lists a
 * server's tools once and records the result), `mcpReadTool`, `mcpEffectTool` and `mcpUndoTool` (an
 * agent's MCP tools: a read, a keyed effect, the compensation of one) and `mcpCallTool` (one tool
 * call for hand-written workflows; keyed through the ledger when it carries an intent). Servers are found by name among `servers`, or by the resolver; an unknown name fails with
 * `MCP_SERVER_CONFIG` (terminal). `connections` is the worker's pool of MCP clients: close it on
 * shutdown. Failures are `ApplicationFailure`s typed by code (see `callMcpTool`, `listMcpTools`).
 */
export function createMcpActivities(
  servers: readonly McpServerSpec[] | McpServerResolver,
  connections: McpConnections,
  options: McpActivitiesOptions = {},
) {
  const resolve = resolverOf(servers);
  const specOf = async (name: string): Promise<McpServerSpec> => {
    const spec = await resolve(name);
    if (!spec) {
      throw toApplicationFailure(
        new McpServerConfigError(`no MCP server named "${name}" is configured on this worker`, {
          server: name,
        }),
      );
    }
    return spec.name === name ? spec : { ...spec, name };
  };
  const ledgerOf = (): Ledger => {
    const ledger = options.ledger ?? currentLedger();
    if (!ledger) throw new TypeError('MCP activities: no ledger (register the onceflow worker plugin)');
    return ledger;
  };
  return {
    /** Lists a server's tools now, with digests (see `listMcpTools`). */
    async mcpListTools(input: McpListToolsInput): Promise<McpToolList> {
      return listMcpTools(connections, await specOf(input.server), { signal: cancellation() });
    },

    /**
     * An agent's MCP read: a plain call of a tool whose digest is `expectDigest`. Returns its
     * `structuredContent`, else its text; an `isError` answer fails with `MCP_TOOL_ERROR` (terminal).
     */
    async mcpReadTool(input: McpToolRequest): Promise<unknown> {
      const spec = await specOf(input.server);
      const done = await callMcpTool(connections, spec, input, { signal: cancellation() });
      if (done.result.isError)
        throw toApplicationFailure(toolErrorOf(done.result, { server: spec.name, tool: input.tool }));
      return done.result.structuredContent ?? done.result.text;
    },

    /**
     * An agent's MCP effect: the call keyed by `intent` through the ledger (see `callMcpTool`). An
     * `isError` answer fails with `MCP_TOOL_ERROR` (terminal, told to the model) and is not recorded:
     * the key stays free for a corrected call.
     */
    async mcpEffectTool({ intent, input }: Keyed<McpToolRequest>): Promise<EffectResult<McpToolResult>> {
      const spec = await specOf(input.server);
      const done = await callMcpTool(
        connections,
        spec,
        { ...input, intent },
        { signal: cancellation(), ledger: options.ledger },
      );
      if (done.outcome === 'tool_error' || done.outcome === 'unkeyed')
        throw toApplicationFailure(toolErrorOf(done.result, { server: spec.name, tool: input.tool }));
      return { outcome: done.outcome, key: intent.key, result: done.result };
    },

    /** Undoes an agent's MCP effect with another tool of its server, once (see `undoMcpStep`). */
    async mcpUndoTool({ intent, input }: Keyed<McpUndoRequest>): Promise<EffectResult<McpUndoResult>> {
      const spec = await specOf(input.server);
      return undoMcpStep(connections, spec, intent, input, { ledger: ledgerOf(), signal: cancellation() });
    },

    /** Calls one MCP tool; keyed through the ledger when `input.intent` is set (see `callMcpTool`). */
    async mcpCallTool(input: McpCallToolInput): Promise<McpCallResult> {
      return callMcpTool(
        connections,
        await specOf(input.server),
        {
          tool: input.tool,
          arguments: input.arguments,
          intent: input.intent,
          expectDigest: input.expectDigest,
        },
        { signal: cancellation(), ledger: options.ledger },
      );
    },
  };
}

/** The MCP activities' interface, imported by workflows as a type. */
export type McpActivities = ReturnType<typeof createMcpActivities>;
