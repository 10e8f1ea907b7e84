import { defineQuery, defineUpdate, type RetryPolicy } from '@temporalio/workflow';
import type { Duration } from '@temporalio/common';
import type { Message, TokenUsage } from '../tools/messages.js';
import type { Intent, IntentApproval } from '../tools/effects.js';
import type { SagaState } from './saga.js';
import type { McpToolList } from '../mcp/tool-info.js';
import type { McpServerReport } from './mcp-tools.js';

/**
 * Outcome of one tool call, as shown by the `toolCalls` query and sent back to the model. `undone`:
 * the effect was done earlier and then undone by a compensation (told to the model as not in effect).
 */
export type ToolOutcome =
  'read' | 'executed' | 'replayed' | 'recovered' | 'undone' | 'conflict' | 'error' | 'invalid' | 'denied';

export interface ToolCallRecord {
  turn: number;
  toolUseId: string;
  name: string;
  key?: string;
  outcome: ToolOutcome;
  /** Workflow-clock milliseconds from dispatch to result. */
  latencyMs: number;
  error?: string;
  /** The failure's code when the call failed with one (`IDEMPOTENCY_KEY_REUSED`, `MCP_TOOL_LIST_CHANGED`, …). */
  code?: string;
}

/**
 * A side-effecting step carried across continue-as-new, so its compensation can be rebuilt. Its
 * result is not carried: compensations read the step's recorded outcome from the ledger by its key.
 */
export interface CarriedStep {
  tool: string;
  /** The validated input. */
  input: Record<string, unknown>;
  /** The model's input as sent, re-validated by the next run; absent in steps from before 0.2. */
  raw?: unknown;
  intent: Intent;
  /** Written by runs before release 0.2; ignored. */
  result?: unknown;
}

/** What continue-as-new hands the next run. */
export interface CarriedState {
  messages: Message[];
  toolCalls: ToolCallRecord[];
  usage: TurnUsage[];
  steps: CarriedStep[];
  turn: number;
  duplicatesPrevented: number;
  runs: number;
  /** How many of `messages` the transcript store already holds (the next run sends only the rest). */
  transcriptStored?: number;
  /**
   * Approvals given by earlier runs, by `<intent key> <fingerprint>`: the same effect re-decided
   * after a continue-as-new keeps its approval. Absent in runs from before 0.2.
   */
  approvals?: [string, IntentApproval][];
  /** The MCP tool listings the session recorded at its start: later runs offer the same tools. */
  mcp?: McpToolList[];
}

export interface TurnUsage extends TokenUsage {
  turn: number;
  /** False when the turn was recorded by an earlier run (reset or continue-as-new): not re-run here. */
  ranInThisRun: boolean;
}

/**
 * Input of an agent workflow (see `defineAgent`); an agent may extend it with the fields its
 * `policy` and `system` read. Start it with workflow ID = the business task ID: it scopes every
 * intent key.
 */
export interface AgentInput {
  prompt: string;
  /** Who the task is for; shown as the `OnceflowCustomer` search attribute. */
  customerId?: string;
  /** Scripted sandbox scenario; ignored by the real Anthropic API. */
  scenario?: string | undefined;
  /** Replaces the agent's system prompt. */
  system?: string;
  /** Model turns before the task gives up and compensates. Default: the agent's, else 12. */
  maxTurns?: number;
  /** How long to wait for approval before treating it as denied. Default 24 hours. */
  approvalTimeout?: Duration;
  /** Continue-as-new after this many turns in one run (or when Temporal suggests it). Default: the agent's, else 40. */
  continueAsNewAfterTurns?: number;
  /** Start-to-close timeout of each tool attempt. Default 30 s. */
  effectTimeout?: Duration;
  compensationRetry?: RetryPolicy;
  /**
   * How model turns receive the conversation. `reference` (default): each turn sends only the new
   * messages and the worker rebuilds the rest from Postgres, so history grows linearly with turns.
   * `inline`: every turn carries the whole transcript, as history input (quadratic growth).
   */
  transcript?: 'reference' | 'inline';
  /** Stream model turns to watchers; default the agent's `stream`, else true. */
  stream?: boolean;
  /** Set by continue-as-new; never by callers. */
  carried?: CarriedState;
}

export type AgentStatus =
  'running' | 'waiting_approval' | 'completed' | 'compensated' | 'compensation_failed' | 'failed';

export interface UsageSummary {
  inputTokens: number;
  outputTokens: number;
  turns: number;
  /** Turns recorded by an earlier run and not sent to the model again. */
  turnsReused: number;
  tokensReused: number;
}

export interface AgentResult {
  status: 'completed' | 'compensated' | 'compensation_failed';
  /** Why the task ended when it did not complete: `abort_task: …`, `turn limit`. */
  reason?: string;
  finalText: string;
  turns: number;
  toolCalls: ToolCallRecord[];
  usage: UsageSummary;
  saga: SagaState;
  duplicatesPrevented: number;
}

/**
 * A call waiting for a person. The approval is bound to this effect: its intent key and terms
 * (fingerprint); a re-decided call with other terms under the same key needs a new approval.
 */
export interface PendingApproval {
  toolUseId: string;
  tool: string;
  summary: string;
  reason: string;
  /** The intent key the approval is for; absent in runs from before 0.2. */
  key?: string;
  fingerprint?: string;
}

export interface ApprovalDecision {
  approved: boolean;
  by?: string;
  note?: string;
}

/** Who decided and why; both optional. */
export interface ApprovalArgs {
  by?: string;
  note?: string;
  /**
   * The intent key the decision is for, from the pending approval: when given, a decision meant for
   * another effect (the model moved on, a stale page) is rejected instead of approving this one.
   */
  key?: string;
}

export const transcriptQuery = defineQuery<Message[]>('transcript');
export const toolCallsQuery = defineQuery<ToolCallRecord[]>('toolCalls');
export const usageQuery = defineQuery<UsageSummary>('usage');
export const agentStatusQuery = defineQuery<{
  status: AgentStatus;
  turn: number;
  pendingApproval: PendingApproval | null;
}>('agentStatus');
/** Approve the pending call. Rejected (validator) when nothing waits for approval. */
export const approveUpdate = defineUpdate<PendingApproval, [ApprovalArgs]>('approve');
/** Deny the pending call; the model is told. Rejected when nothing waits for approval. */
export const denyUpdate = defineUpdate<PendingApproval, [ApprovalArgs]>('deny');

/**
 * The MCP tools of an agent session: per server, the listing's digest, the tools offered (with the
 * arguments that key them) and those withheld; and every call refused because its tool changed on the
 * server since the session listed it.
 */
export const mcpToolsQuery = defineQuery<{ servers: McpServerReport[]; changed: ToolCallRecord[] }>(
  'mcpTools',
);
