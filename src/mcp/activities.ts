import { Context } from '@temporalio/activity';
import { effect } from '../activities/effect.js';
import { currentLedger } from '../activities/effect-scope.js';
import { OutcomeUnknownError } from '../idempotency/errors.js';
import { toApplicationFailure } from '../idempotency/failure.js';
import { stepKeyOf } from '../idempotency/keys.js';
import type { Ledger } from '../idempotency/ledger.js';
import type { EffectResult, Intent, Keyed } from '../tools/effects.js';
import { effectIntent } from '../tools/intent.js';
import { resolveArguments } from './arguments.js';
import { callMcpTool, sendKeyed, toolErrorOf, type McpCallResult, type McpToolResult } from './call.js';
import type { McpConnections } from './connections.js';
import { argumentRefs } from './declare.js';
import { MCP_ERROR_CODES, McpServerConfigError } from './errors.js';
import type { McpToolRequest, McpUndoRequest } from './requests.js';
import type { McpServerSpec } from './server-spec.js';
import { listMcpTools } from './tools.js';
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

/** What `mcpUndoTool` returns: whether anything was undone, and the undoing tool's answer. */
export type McpUndoResult = { undone: true; result: McpToolResult } | { undone: false; reason: string };

/**
 * Codes a released step claim ends with when the server did nothing: the tool said no (`isError`), the
 * request was refused as malformed, or it was never sent (the tool had changed).
 */
const NOT_PERFORMED_CODES = new Set<string>([
  MCP_ERROR_CODES.toolError,
  MCP_ERROR_CODES.rejected,
  MCP_ERROR_CODES.toolListChanged,
]);

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
 * The MCP activities a worker registers: `mcpListTools` (a session lists a server's tools once and
 * records the result) and `mcpCallTool` (one tool call; keyed through the ledger when it carries an
 * intent). Servers are found by name among `servers`, or by the resolver; an unknown name fails with
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
  /** The step's recorded result for its compensation, or why there is nothing to undo. */
  const stepResult = async (
    undo: Intent,
    spec: McpServerSpec,
    input: McpUndoRequest,
  ): Promise<{ result: McpToolResult | undefined } | { nothing: string }> => {
    const ledger = ledgerOf();
    const stepKey = stepKeyOf(undo.key);
    const step = await ledger.stepOutcome(stepKey);
    if (step.status === 'not_performed') return { nothing: step.reason };
    if (step.status === 'performed') return { result: step.result as McpToolResult };
    if (step.lastError && NOT_PERFORMED_CODES.has(step.lastError))
      return { nothing: `the step's last attempt ended in ${step.lastError}: the server did nothing` };
    const needsResult = Object.values(input.arguments).some((v) => argumentRefs(v).result.length > 0);
    if (!needsResult) return { result: undefined };
    // Outcome unknown and the undo needs the step's result: ask the server as a retry of the step would,
    // with the step's own key, which a key-honouring server answers with its first result.
    if (input.step.effect.recovery !== 'resume')
      throw new OutcomeUnknownError(
        undo.key,
        `the outcome of ${input.step.tool} is unknown and its recovery is not resume`,
      );
    const stepIntent = effectIntent(undo.scope, input.step.effect, input.step.arguments);
    if (stepIntent.key !== stepKey)
      throw new TypeError(`mcpUndoTool: the step's arguments do not derive its key ${stepKey}`);
    const { effect: _spec, ...call } = input.step;
    const again = await callMcpTool(
      connections,
      spec,
      { ...call, intent: stepIntent },
      { signal: cancellation(), ledger },
    );
    return again.outcome === 'tool_error'
      ? { nothing: `${input.step.tool} answered isError when asked again: nothing to undo` }
      : { result: again.result };
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

    /**
     * Undoes an agent's MCP effect with another tool of its server, under the compensation key
     * `intent.key` (`<step key>:undo`), once. It first reads the step's recorded outcome: never
     * performed, or ended in an `isError` / refused / unsent call → nothing to undo (recorded, the
     * server is not called); performed → the undoing tool is called with arguments built from the
     * step's recorded result and arguments; unknown (crashed mid-call) → the step is asked again with
     * its own key when its recovery is `resume` (the server answers with its first result), else the
     * undo is marked for a person (`OUTCOME_UNKNOWN`). An `isError` answer of the undoing tool, or a
     * reference that names nothing, fails terminally: the saga marks the step for a person.
     */
    async mcpUndoTool({ intent, input }: Keyed<McpUndoRequest>): Promise<EffectResult<McpUndoResult>> {
      const spec = await specOf(input.server);
      const context = { server: spec.name, tool: input.tool };
      return effect<McpUndoResult>(
        intent,
        async ({ key }) => {
          const step = await stepResult(intent, spec, input);
          if ('nothing' in step) return { undone: false, reason: step.nothing };
          const args = resolveArguments(
            input.arguments,
            { result: step.result, arguments: input.step.arguments },
            context,
          );
          const result = await sendKeyed(
            connections.connection(spec),
            { tool: input.tool, arguments: args, expectDigest: input.expectDigest },
            key,
            { signal: cancellation() },
          );
          if (result.isError) throw toolErrorOf(result, context);
          return { undone: true, result };
        },
        {
          operation: `mcp:${spec.name}/${input.tool}`,
          ...(options.ledger ? { ledger: options.ledger } : {}),
        },
      );
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
