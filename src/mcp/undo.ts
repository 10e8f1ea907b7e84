import { effect } from '../activities/effect.js';
import { OutcomeUnknownError } from '../idempotency/errors.js';
import { stepKeyOf } from '../idempotency/keys.js';
import type { Ledger } from '../idempotency/ledger.js';
import type { EffectResult, Intent } from '../tools/effects.js';
import { effectIntent } from '../tools/intent.js';
import { resolveArguments } from './arguments.js';
import { callMcpTool, sendKeyed, toolErrorOf, type McpToolResult } from './call.js';
import type { McpConnections } from './connections.js';
import { argumentRefs } from './declare.js';
import { MCP_ERROR_CODES } from './errors.js';
import type { McpUndoRequest } from './requests.js';
import type { McpServerSpec } from './server-spec.js';

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

interface UndoContext {
  ledger: Ledger;
  signal: AbortSignal | undefined;
}

/** The step's recorded result for its compensation, or why there is nothing to undo. */
async function stepResult(
  connections: McpConnections,
  spec: McpServerSpec,
  undo: Intent,
  input: McpUndoRequest,
  { ledger, signal }: UndoContext,
): Promise<{ result: McpToolResult | undefined } | { nothing: string }> {
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
  const again = await callMcpTool(connections, spec, { ...call, intent: stepIntent }, { signal, ledger });
  return again.outcome === 'tool_error'
    ? { nothing: `${input.step.tool} answered isError when asked again: nothing to undo` }
    : { result: again.result };
}

/**
 * Undoes an agent's MCP effect with another tool of its server, under the compensation key
 * `undo.key` (`<step key>:undo`), once: the body of the `mcpUndoTool` activity.
 *
 * It first reads the step's recorded outcome: never performed, or released with an `isError` answer, a
 * refused request or an unsent call (the tool had changed) → `{ undone: false, reason }`, recorded, the
 * server not called; performed → the undoing tool is called with its arguments resolved against the
 * step's recorded result and arguments; unknown (crashed mid-call) → when the arguments need the
 * result, the step is asked again under its own key if its recovery is `resume` (a key-honouring
 * server answers with its first result), else the undo is marked for a person (`OUTCOME_UNKNOWN`).
 * A reference that names nothing (`MCP_COMPENSATION_ARGUMENTS`) or an `isError` answer of the undoing
 * tool (`MCP_TOOL_ERROR`) fails terminally, so the saga marks the step for a person.
 */
export function undoMcpStep(
  connections: McpConnections,
  spec: McpServerSpec,
  undo: Intent,
  input: McpUndoRequest,
  context: UndoContext,
): Promise<EffectResult<McpUndoResult>> {
  const where = { server: spec.name, tool: input.tool };
  return effect<McpUndoResult>(
    undo,
    async ({ key }) => {
      const step = await stepResult(connections, spec, undo, input, context);
      if ('nothing' in step) return { undone: false, reason: step.nothing };
      const args = resolveArguments(
        input.arguments,
        { result: step.result, arguments: input.step.arguments },
        where,
      );
      const result = await sendKeyed(
        connections.connection(spec),
        { tool: input.tool, arguments: args, expectDigest: input.expectDigest },
        key,
        { signal: context.signal },
      );
      if (result.isError) throw toolErrorOf(result, where);
      return { undone: true, result };
    },
    { operation: `mcp:${spec.name}/${input.tool}`, ledger: context.ledger },
  );
}
