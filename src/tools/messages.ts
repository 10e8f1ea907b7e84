/**
 * The subset of the Anthropic Messages API shapes the agent loop keeps in workflow state. Plain JSON
 * types, so workflow code needs no SDK import; `src/activities/model.ts` maps to and from the SDK.
 */

import type { LiveTurn } from '../stream/events.js';

export interface TextBlock {
  type: 'text';
  text: string;
}

export interface ToolUseBlock {
  type: 'tool_use';
  id: string;
  name: string;
  input: Record<string, unknown>;
}

export interface ToolResultBlock {
  type: 'tool_result';
  tool_use_id: string;
  content: string;
  is_error?: boolean;
}

export type AssistantBlock = TextBlock | ToolUseBlock;
export type UserBlock = TextBlock | ToolResultBlock;

export type Message =
  { role: 'user'; content: string | UserBlock[] } | { role: 'assistant'; content: AssistantBlock[] };

export interface ToolSchema {
  name: string;
  description: string;
  input_schema: Record<string, unknown>;
}

export interface TokenUsage {
  inputTokens: number;
  outputTokens: number;
}

/** What a conversation is held to besides its messages: the system prompt and the offered tools. */
export interface ConversationContext {
  system: string;
  tools: ToolSchema[];
}

/**
 * The conversation by reference: the messages added since the workflow's last turn (from index
 * `base`), the context when it is sent (first turn, or a resend from `base` 0), and the chain digest
 * (`src/transcript/digest.ts`) of the context followed by the whole transcript.
 */
export interface TranscriptRef {
  conversationId: string;
  base: number;
  append: Message[];
  context?: ConversationContext;
  digest: string;
}

/**
 * Input of the `callModel` activity: the conversation inline (`system`, `tools`, `messages`) or by
 * reference (`transcript`).
 */
export interface ModelRequest {
  system?: string;
  tools?: ToolSchema[];
  messages?: Message[];
  transcript?: TranscriptRef;
  /** Scripted sandbox scenario (sent as the `x-onceflow-scenario` header); ignored by the real API. */
  scenario?: string;
  /** Overrides `ANTHROPIC_MODEL`. */
  model?: string;
  /** Overrides `ANTHROPIC_MAX_TOKENS`. */
  maxTokens?: number;
  /**
   * Stream this turn to the task's watchers (`GET /tasks/:id/events`): its number, and the previous
   * turn's tool results to show first. Absent: one non-streaming call, nothing published.
   */
  live?: LiveTurn;
}

/** Output of the `callModel` activity: what goes into history, so replay never calls the model again. */
export interface ModelResponse {
  id: string;
  model: string;
  content: AssistantBlock[];
  stopReason: string;
  usage: TokenUsage;
  /** The workflow run that made the call: turns carried by a reset or continue-as-new show another run. */
  runId: string;
}
