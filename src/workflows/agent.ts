import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
  type RetryPolicy,
} from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { EngineActivities } from '../activities/engine.js';
import type { LiveToolResult } from '../stream/events.js';
import { boundAssistantContent } from '../tools/bounds.js';
import type { Execution, Tool } from '../tools/define.js';
import type {
  AssistantBlock,
  ConversationContext,
  Message,
  ModelRequest,
  ModelResponse,
  ToolSchema,
  ToolUseBlock,
} from '../tools/messages.js';
import { chainOf, linkMessage } from '../transcript/digest.js';
import { TranscriptGapError } from '../transcript/errors.js';
import {
  agentStatusQuery,
  mcpToolsQuery,
  toolCallsQuery,
  transcriptQuery,
  usageQuery,
  type AgentInput,
  type AgentResult,
  type AgentStatus,
  type ToolCallRecord,
  type TurnUsage,
  type UsageSummary,
} from './agent-state.js';
import { ToolRunner } from './agent-tools.js';
import { approvalDesk } from './approvals.js';
import { ActivityCaller, DEFAULT_EXECUTION } from './activity-call.js';
import { unrecordedSteps } from './unrecorded.js';
import {
  compensationCall,
  effectCall,
  localCompensationCall,
  localEffectCall,
  localReadCall,
  modelCall,
  readCall,
} from './options.js';
import { reconcileBeforeComplete } from './reconcile.js';
import { describeError, Saga, sagaStateQuery, sagaStateUpserter } from './saga.js';
import { CUSTOMER, DUPLICATES_PREVENTED, TASK_KIND, TASK_STATUS } from './search-attributes.js';
import { onceflowPatched, startPatches } from './patches.js';
import { mcpServer, type McpServerUse } from '../mcp/declare.js';
import { MCP_TOOL_LIST_CHANGED, openMcpSession, type McpServerReport } from './mcp-tools.js';

/** An agent: its prompt, tools, limits and approval policy. See {@link defineAgent}. */
export interface AgentDefinition<I extends AgentInput = AgentInput, P = unknown> {
  /**
   * The workflow type: export the returned workflow under this name from your workflows file, and
   * start it by this name. Renaming it orphans running tasks.
   */
  name: string;
  /** The system prompt; `input.system` replaces it for one task. */
  system: string | ((input: I) => string);
  /** The tools offered to the model, in this order. Add `abortTask` to let the model give up. */
  tools: readonly Tool[];
  /** What the tools' `approval` rules read, from the task input. Default `undefined`. */
  policy?: (input: I) => P;
  /** Model name and output limit for this agent; default the worker's `ANTHROPIC_MODEL` / `ANTHROPIC_MAX_TOKENS`. */
  model?: { name?: string; maxTokens?: number };
  /** Model turns before the task gives up and compensates; `input.maxTurns` overrides. Default 12. */
  maxTurns?: number;
  /** Continue-as-new after this many turns in one run (or when Temporal suggests it). Default 40. */
  continueAsNewAfterTurns?: number;
  /**
   * Where the activities of tools that do not choose run (see `Execution`). Default `DEFAULT_EXECUTION` (`local`). Model
   * turns are always regular activities: they take seconds, heartbeat and can be cancelled.
   */
  execution?: Execution;
  /**
   * Stream model turns to the task's watchers (`GET /tasks/:id/events`, the console, `onceflow run`):
   * text as the model writes it, tool uses, the tool results of the turn before. `input.stream`
   * overrides. Default true. Off: each turn is one non-streaming call, and watchers see tool calls
   * and status only.
   */
  stream?: boolean;
  /**
   * MCP servers whose tools the agent offers next to `tools`, each declared with {@link mcpServer}: which
   * tools are effects, the arguments that make their intent keys, which tool undoes them. A session
   * lists each server's tools once, at its start, in an activity, and keeps the listing in its state
   * (replay and continue-as-new never list again); a tool that changed on the server since is refused
   * when called, and the model told. The servers' transports are the worker's (`onceflow({ mcp })`).
   */
  mcp?: readonly McpServerUse<P>[];
}

/** Activity options with the task's start-to-close timeout, when it sets one. */
function timed<O extends { startToCloseTimeout?: Duration }>(options: O, timeout: Duration | undefined): O {
  return timeout ? { ...options, startToCloseTimeout: timeout } : options;
}

/** Activity options with the task's retry policy, when it sets one. */
function retried<O extends { retry?: RetryPolicy }>(options: O, retry: RetryPolicy | undefined): O {
  return retry ? { ...options, retry } : options;
}

/** A tool call as the live stream shows it. */
function liveResult(r: ToolCallRecord): LiveToolResult {
  return {
    turn: r.turn,
    toolUseId: r.toolUseId,
    name: r.name,
    outcome: r.outcome,
    ...(r.key ? { key: r.key } : {}),
    ...(r.error ? { error: r.error } : {}),
  };
}

function summarizeUsage(usage: TurnUsage[]): UsageSummary {
  const reused = usage.filter((u) => !u.ranInThisRun);
  return {
    inputTokens: usage.reduce((s, u) => s + u.inputTokens, 0),
    outputTokens: usage.reduce((s, u) => s + u.outputTokens, 0),
    turns: usage.length,
    turnsReused: reused.length,
    tokensReused: reused.reduce((s, u) => s + u.inputTokens + u.outputTokens, 0),
  };
}

const UPSERT_ON_CHANGE = 'duplicates-prevented-upsert-on-change';

function isTranscriptGap(err: unknown): boolean {
  return (
    err instanceof ActivityFailure &&
    err.cause instanceof ApplicationFailure &&
    err.cause.type === TranscriptGapError.CODE
  );
}

function finalText(content: AssistantBlock[]): string {
  return content
    .filter((b): b is Extract<AssistantBlock, { type: 'text' }> => b.type === 'text')
    .map((b) => b.text)
    .join('\n');
}

/** The workflow {@link defineAgent} returns. */
export type AgentWorkflow<I extends AgentInput = AgentInput> = (input: I) => Promise<AgentResult>;

/**
 * Builds an agent workflow: the Anthropic tool-use loop as a durable Temporal workflow. Export the
 * result from your workflows file under `definition.name`.
 *
 * Each model turn is the `callModel` activity (from the onceflow worker plugin), so replay and resets
 * never call the model again for a recorded turn. Each tool call is an activity: reads in parallel;
 * effects one at a time with an intent key from the tool's identity fields, so a retried activity, a
 * crashed worker, a model that re-decides the call, or a reset all reach the ledger with the same key
 * (replayed, never performed twice; other terms → a conflict told to the model). Effects with a
 * compensation are saga steps registered before they run, undone in reverse on failure,
 * cancellation, `abort_task` or the turn limit; a compensation that keeps failing ends the task
 * `compensation_failed` for a person. Invalid tool input, refusals and conflicts go back to the model
 * as `is_error` results; other activity failures fail the task after Temporal's retries, and it
 * compensates. Must be called at module level of a workflows file (workflow-safe code only).
 */
export function defineAgent<I extends AgentInput, P = unknown>(
  definition: AgentDefinition<I, P>,
): AgentWorkflow<I> {
  const tools = new Map(definition.tools.map((t) => [t.name, t] as const));
  if (tools.size !== definition.tools.length)
    throw new TypeError(`agent ${definition.name}: duplicate tool names`);
  const servers = (definition.mcp ?? []).map((use) => mcpServer(use).server);
  if (new Set(servers).size !== servers.length)
    throw new TypeError(`agent ${definition.name}: an MCP server is declared twice`);
  const schemas = definition.tools.map((t) => t.schema());
  const workflow = (input: I) => runAgent(definition, tools, schemas, input);
  Object.defineProperty(workflow, 'name', { value: definition.name });
  return workflow;
}

async function runAgent<I extends AgentInput, P>(
  definition: AgentDefinition<I, P>,
  toolMap: ReadonlyMap<string, Tool>,
  baseSchemas: ToolSchema[],
  input: I,
): Promise<AgentResult> {
  startPatches(); // first: before any local activity of this workflow task
  const carried = input.carried;
  const maxTurns = input.maxTurns ?? definition.maxTurns ?? 12;
  const continueAfter = input.continueAsNewAfterTurns ?? definition.continueAsNewAfterTurns ?? 40;
  const messages: Message[] = carried?.messages ?? [{ role: 'user', content: input.prompt }];
  const usage: TurnUsage[] = (carried?.usage ?? []).map((u) => ({ ...u, ranInThisRun: false }));
  let stored = carried?.transcriptStored ?? 0;
  const system =
    input.system ?? (typeof definition.system === 'function' ? definition.system(input) : definition.system);
  // This session's tools: the agent's, and (after listing) its MCP servers'. A copy: the definition's
  // map is shared by every workflow of the worker.
  const sessionTools = new Map(toolMap);
  let turn = carried?.turn ?? 0;
  let turnsThisRun = 0;
  let status: AgentStatus = 'running';

  const compensationOptions = {
    regular: retried(compensationCall, input.compensationRetry),
    local: retried(localCompensationCall, input.compensationRetry),
  };
  const undo = new ActivityCaller(compensationOptions);
  const saga = new Saga(sagaStateUpserter(), {
    unrecorded: unrecordedSteps(
      (execution) => (activity, summary, args) => undo.call(execution, activity, summary, args),
    ),
  });
  const desk = approvalDesk({
    timeout: input.approvalTimeout,
    onWaiting: (waiting) => setStatus(waiting ? 'waiting_approval' : 'running'),
  });
  const tools = new ToolRunner({
    tools: sessionTools,
    saga,
    policy: definition.policy?.(input),
    execution: definition.execution ?? DEFAULT_EXECUTION,
    effectOptions: {
      regular: timed(effectCall, input.effectTimeout),
      local: timed(localEffectCall, input.effectTimeout),
    },
    compensationOptions,
    readOptions: { regular: readCall, local: localReadCall },
    now: () => Date.now(),
    approve: (call, def, summary, reason, intent) =>
      desk.ask({ id: call.id, tool: def.name, summary, reason, intent }),
  });
  const setStatus = (next: AgentStatus) => {
    status = next;
    upsertSearchAttributes([{ key: TASK_STATUS, value: next }]);
  };
  setHandler(transcriptQuery, () => messages);
  setHandler(toolCallsQuery, () => tools.records);
  setHandler(usageQuery, () => summarizeUsage(usage));
  setHandler(sagaStateQuery, () => saga.state());
  setHandler(agentStatusQuery, () => ({ status, turn, pendingApproval: desk.pending() }));
  let mcpServers: McpServerReport[] = [];
  setHandler(mcpToolsQuery, () => ({
    servers: mcpServers,
    changed: tools.records.filter((r) => r.code === MCP_TOOL_LIST_CHANGED),
  }));
  upsertSearchAttributes([
    { key: TASK_KIND, value: 'agent' },
    { key: TASK_STATUS, value: 'running' },
    { key: DUPLICATES_PREVENTED, value: carried?.duplicatesPrevented ?? 0 },
    ...(input.customerId ? [{ key: CUSTOMER, value: input.customerId }] : []),
  ]);

  // MCP tools: listed once per session, before its first turn; later runs reuse the listing. A session
  // whose servers cannot be listed or do not fit the declarations fails here, having done nothing.
  const mcp = await openMcpSession(definition.mcp ?? [], carried?.mcp, new Set(toolMap.keys())).catch(
    (err: unknown) => {
      setStatus('failed');
      throw err;
    },
  );
  for (const tool of mcp.tools) sessionTools.set(tool.name, tool);
  const schemas = [...baseSchemas, ...mcp.tools.map((t) => t.schema())];
  mcpServers = mcp.servers;
  if (carried)
    tools.restore(carried.toolCalls, carried.steps, carried.duplicatesPrevented, carried.approvals ?? []);
  const context: ConversationContext = { system, tools: schemas };
  // Digest of the context and the whole transcript, extended as messages are added.
  let chain = chainOf([context, ...messages]);
  const push = (message: Message) => {
    messages.push(message);
    chain = linkMessage(chain, message);
  };

  const model = proxyActivities<EngineActivities>(modelCall);
  const scenario = {
    ...(input.scenario ? { scenario: input.scenario } : {}),
    ...(definition.model?.name ? { model: definition.model.name } : {}),
    ...(definition.model?.maxTokens ? { maxTokens: definition.model.maxTokens } : {}),
  };

  const streaming = input.stream ?? definition.stream ?? true;
  // The previous turn's tool results, which the next streamed turn shows before its text.
  let lastResults: ToolCallRecord[] = [];
  const liveTurn = (): Pick<ModelRequest, 'live'> =>
    streaming
      ? { live: { turn, ...(lastResults.length > 0 ? { toolResults: lastResults.map(liveResult) } : {}) } }
      : {};
  const { namespace, workflowId } = workflowInfo();
  const request = (base: number): ModelRequest =>
    input.transcript === 'inline'
      ? { system, tools: schemas, messages, ...scenario, ...liveTurn() }
      : {
          transcript: {
            conversationId: `${namespace}/${workflowId}`,
            base,
            append: messages.slice(base),
            ...(base === 0 ? { context } : {}),
            digest: chain,
          },
          ...scenario,
          ...liveTurn(),
        };
  const askModel = async (): Promise<ModelResponse> => {
    try {
      return await model.callModel.executeWithOptions({ summary: `model turn ${turn}` }, [request(stored)]);
    } catch (err) {
      // The store lost or diverged from part of the conversation: send all of it once, which refills it.
      if (stored === 0 || !isTranscriptGap(err)) throw err;
      return await model.callModel.executeWithOptions({ summary: `model turn ${turn}, transcript resent` }, [
        request(0),
      ]);
    }
  };
  const result = (status: AgentResult['status'], text: string, reason?: string): AgentResult => ({
    status,
    ...(reason !== undefined ? { reason } : {}),
    finalText: text,
    turns: turn,
    toolCalls: tools.records,
    usage: summarizeUsage(usage),
    saga: saga.state(),
    duplicatesPrevented: tools.duplicatesPrevented,
  });
  const undoAll = async (reason: string): Promise<AgentResult['status']> => {
    setCurrentDetails(`compensating: ${reason}`);
    const state = await saga.compensate(reason);
    const final = state.status === 'compensation_failed' ? 'compensation_failed' : 'compensated';
    setStatus(final);
    setCurrentDetails(
      final === 'compensation_failed'
        ? `needs a person: ${state.needsAttention.map((a) => a.action).join('; ')}`
        : `undone: ${reason}`,
    );
    return final;
  };

  try {
    let lastText = '';
    for (;;) {
      if (turn >= maxTurns) {
        const final = await undoAll(`turn limit of ${maxTurns} reached`);
        return result(final, lastText, 'turn limit');
      }
      if (turnsThisRun >= continueAfter || workflowInfo().continueAsNewSuggested) {
        await condition(allHandlersFinished);
        return await continueAsNew<AgentWorkflow<I>>({
          ...input,
          carried: {
            messages,
            toolCalls: tools.records,
            usage: usage.map(({ ranInThisRun: _r, ...u }) => ({ ...u, ranInThisRun: false })),
            steps: tools.steps,
            turn,
            duplicatesPrevented: tools.duplicatesPrevented,
            runs: (carried?.runs ?? 1) + 1,
            transcriptStored: stored,
            approvals: tools.approvalsGiven(),
            ...(mcp.lists.length > 0 ? { mcp: mcp.lists } : {}),
          },
        });
      }
      turn++;
      turnsThisRun++;
      setCurrentDetails(`turn ${turn}: asking the model`);
      const response = await askModel();
      stored = messages.length;
      usage.push({
        turn,
        inputTokens: response.usage.inputTokens,
        outputTokens: response.usage.outputTokens,
        ranInThisRun: response.runId === workflowInfo().runId,
      });
      // Bounded before it enters the conversation, which every later turn sends again.
      const content = boundAssistantContent(response.content);
      push({ role: 'assistant', content });
      lastText = finalText(content) || lastText;
      const calls = content.filter((b): b is ToolUseBlock => b.type === 'tool_use');
      if (calls.length === 0) {
        await reconcileBeforeComplete(saga);
        await saga.settle();
        setStatus('completed');
        setCurrentDetails('completed');
        return result('completed', lastText);
      }
      setCurrentDetails(`turn ${turn}: ${calls.map((c) => c.name).join(', ')}`);
      const before = tools.duplicatesPrevented;
      const results = await tools.run(turn, calls);
      lastResults = tools.records.filter((r) => r.turn === turn);
      // Only on change: an unchanged upsert still costs a command and a history event every turn.
      // Histories from before the patch upserted every turn and must replay so.
      if (tools.duplicatesPrevented !== before || !onceflowPatched(UPSERT_ON_CHANGE))
        upsertSearchAttributes([{ key: DUPLICATES_PREVENTED, value: tools.duplicatesPrevented }]);
      push({ role: 'user', content: results });
      if (tools.aborted !== undefined) {
        const final = await undoAll(`abort_task: ${tools.aborted}`);
        return result(final, lastText, `abort_task: ${tools.aborted}`);
      }
    }
  } catch (err) {
    if (err instanceof ContinueAsNew) throw err;
    if (isCancellation(err)) {
      await undoAll('cancelled');
      throw err;
    }
    const reason = describeError(err);
    const final = await undoAll(reason);
    throw ApplicationFailure.create({
      type: final === 'compensation_failed' ? 'COMPENSATION_FAILED' : 'AGENT_FAILED',
      message: `agent task failed and was ${final === 'compensation_failed' ? 'not fully undone' : 'undone'}: ${reason}`,
      nonRetryable: true,
      details: [saga.state()],
      ...(err instanceof Error ? { cause: err } : {}),
    });
  }
}
