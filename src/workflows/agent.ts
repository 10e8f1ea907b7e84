import {
  ActivityFailure,
  allHandlersFinished,
  ApplicationFailure,
  condition,
  ContinueAsNew,
  continueAsNew,
  isCancellation,
  patched,
  proxyActivities,
  setCurrentDetails,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow';
import type { Activities } from '../activities/index.js';
import { boundAssistantContent } from '../tools/bounds.js';
import { toolSchemas } from '../tools/catalogue.js';
import type {
  AssistantBlock,
  ConversationContext,
  Message,
  ModelRequest,
  ModelResponse,
  ToolUseBlock,
} from '../tools/messages.js';
import { chainOf, linkMessage } from '../transcript/digest.js';
import { TranscriptGapError } from '../transcript/errors.js';
import {
  agentStatusQuery,
  approveUpdate,
  denyUpdate,
  toolCallsQuery,
  transcriptQuery,
  usageQuery,
  type AgentInput,
  type AgentResult,
  type AgentStatus,
  type ApprovalArgs,
  type ApprovalDecision,
  type PendingApproval,
  type TurnUsage,
  type UsageSummary,
} from './agent-state.js';
import { ToolRunner } from './agent-tools.js';
import { compensationCall, effectCall, modelCall, readCall } from './options.js';
import { reconcileBeforeComplete } from './reconcile.js';
import { describeError, Saga, sagaStateQuery, sagaStateUpserter } from './saga.js';
import { CUSTOMER, DUPLICATES_PREVENTED, TASK_KIND, TASK_STATUS } from './search-attributes.js';

const DEFAULT_SYSTEM =
  'You are an order-operations agent. Use the tools to act for the customer. Every side-effecting tool needs ' +
  'the business reference (order_id) it acts on. If a tool says an action was already done, do not repeat it. ' +
  'If the task cannot be completed, call abort_task so everything done is undone.';

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

/**
 * The Anthropic tool-use loop as a durable workflow. Each model turn is the `callModel` activity, so
 * replay never calls the model again; each tool call is an activity keyed by intent; side effects are
 * saga steps undone in reverse on failure, cancellation, `abort_task` or running out of turns.
 */
export async function agentWorkflow(input: AgentInput): Promise<AgentResult> {
  const carried = input.carried;
  const maxTurns = input.maxTurns ?? 12;
  const continueAfter = input.continueAsNewAfterTurns ?? 40;
  const messages: Message[] = carried?.messages ?? [{ role: 'user', content: input.prompt }];
  const usage: TurnUsage[] = (carried?.usage ?? []).map((u) => ({ ...u, ranInThisRun: false }));
  let stored = carried?.transcriptStored ?? 0;
  const schemas = toolSchemas();
  const system =
    input.system ??
    (input.customerId ? `${DEFAULT_SYSTEM} The customer is ${input.customerId}.` : DEFAULT_SYSTEM);
  const context: ConversationContext = { system, tools: schemas };
  // Digest of the context and the whole transcript, extended as messages are added.
  let chain = chainOf([context, ...messages]);
  const push = (message: Message) => {
    messages.push(message);
    chain = linkMessage(chain, message);
  };
  let turn = carried?.turn ?? 0;
  let turnsThisRun = 0;
  let status: AgentStatus = 'running';
  let pending: PendingApproval | null = null;
  let decision: ApprovalDecision | undefined;

  const saga = new Saga(sagaStateUpserter());
  const tools = new ToolRunner({
    saga,
    policy: { approvalLimit: input.approvalLimit ?? 10_000 },
    effectOptions: input.effectTimeout
      ? { ...effectCall, startToCloseTimeout: input.effectTimeout }
      : effectCall,
    compensationOptions: input.compensationRetry
      ? { ...compensationCall, retry: input.compensationRetry }
      : compensationCall,
    readOptions: readCall,
    now: () => Date.now(),
    approve: async (call, def, reason) => {
      pending = { toolUseId: call.id, tool: def.name, summary: def.summarize(call.input), reason };
      decision = undefined;
      setStatus('waiting_approval');
      setCurrentDetails(`waiting for approval: ${pending.summary} (${reason})`);
      const decided = await condition(() => decision !== undefined, input.approvalTimeout ?? '24 hours');
      const outcome = decided && decision ? decision : { approved: false, note: 'approval timed out' };
      pending = null;
      setStatus('running');
      return { approved: outcome.approved, note: outcome.note ?? (outcome.approved ? 'approved' : 'denied') };
    },
  });
  if (carried) tools.restore(carried.toolCalls, carried.steps, carried.duplicatesPrevented);

  const setStatus = (next: AgentStatus) => {
    status = next;
    upsertSearchAttributes([{ key: TASK_STATUS, value: next }]);
  };
  const decide = (approved: boolean) => (args: ApprovalArgs) => {
    const waiting = pending!;
    decision = { approved, ...(args.by ? { by: args.by } : {}), ...(args.note ? { note: args.note } : {}) };
    return waiting;
  };
  const validatePending = (_args: ApprovalArgs) => {
    if (!pending) throw new Error('no tool call is waiting for approval');
  };
  setHandler(approveUpdate, decide(true), { validator: validatePending });
  setHandler(denyUpdate, decide(false), { validator: validatePending });
  setHandler(transcriptQuery, () => messages);
  setHandler(toolCallsQuery, () => tools.records);
  setHandler(usageQuery, () => summarizeUsage(usage));
  setHandler(sagaStateQuery, () => saga.state());
  setHandler(agentStatusQuery, () => ({ status, turn, pendingApproval: pending }));
  upsertSearchAttributes([
    { key: TASK_KIND, value: 'agent' },
    { key: TASK_STATUS, value: 'running' },
    { key: DUPLICATES_PREVENTED, value: tools.duplicatesPrevented },
    ...(input.customerId ? [{ key: CUSTOMER, value: input.customerId }] : []),
  ]);

  const model = proxyActivities<Activities>(modelCall);
  const scenario = input.scenario ? { scenario: input.scenario } : {};

  const { namespace, workflowId } = workflowInfo();
  const request = (base: number): ModelRequest =>
    input.transcript === 'inline'
      ? { system, tools: schemas, messages, ...scenario }
      : {
          transcript: {
            conversationId: `${namespace}/${workflowId}`,
            base,
            append: messages.slice(base),
            ...(base === 0 ? { context } : {}),
            digest: chain,
          },
          ...scenario,
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
        return await continueAsNew<typeof agentWorkflow>({
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
        saga.complete();
        setStatus('completed');
        setCurrentDetails('completed');
        return result('completed', lastText);
      }
      setCurrentDetails(`turn ${turn}: ${calls.map((c) => c.name).join(', ')}`);
      const before = tools.duplicatesPrevented;
      const results = await tools.run(turn, calls);
      // Only on change: an unchanged upsert still costs a command and a history event every turn.
      // Histories from before the patch upserted every turn and must replay so.
      if (tools.duplicatesPrevented !== before || !patched(UPSERT_ON_CHANGE))
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
