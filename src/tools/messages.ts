/**
 * The subset of the Anthropic Messages API shapes the agent loop keeps in workflow state. Plain JSON
 * types, so workflow code needs no SDK import; `src/activities/model.ts` maps to and from the SDK.
 */

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

/**
 * The conversation by reference: the messages added since the workflow's last turn (from index
 * `base`), and the chain digest (`src/transcript/digest.ts`) of the whole transcript they complete.
 */
export interface TranscriptRef {
  conversationId: string;
  base: number;
  append: Message[];
  digest: string;
}

/** Input of the `callModel` activity: the conversation inline (`messages`) or by reference (`transcript`). */
export interface ModelRequest {
  system: string;
  messages?: Message[];
  transcript?: TranscriptRef;
  tools: ToolSchema[];
  /** Scripted sandbox scenario (sent as the `x-onceflow-scenario` header); ignored by the real API. */
  scenario?: string;
  /** Overrides `ANTHROPIC_MODEL`. */
  model?: string;
  /** Overrides `ANTHROPIC_MAX_TOKENS`. */
  maxTokens?: number;
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
