/**
 * Size bounds on what enters an agent's conversation. Everything in the conversation is sent back to
 * the model on every later turn and kept in history, so an oversized tool input (a model that wrote a
 * megabyte into a field) or tool result would grow every request until the model API refuses it with
 * a 413 the task cannot recover from. Pure functions: the workflow applies them.
 */
import type { AssistantBlock, ToolUseBlock } from './messages.js';

/** Tool results above this many characters are cut before they enter the conversation. */
export const MAX_TOOL_RESULT_CHARS = 16_000;
/** A single string in a tool input above this many characters is cut. */
export const MAX_TOOL_INPUT_STRING_CHARS = 10_000;
/** A tool input whose JSON is still above this many characters is replaced by a note. */
export const MAX_TOOL_INPUT_CHARS = 64_000;

/** The text with a note saying how much was cut, when it is longer than `max`. */
export function truncateText(text: string, max: number): string {
  if (text.length <= max) return text;
  return `${text.slice(0, max)}\n[truncated: ${text.length - max} more characters not shown]`;
}

function boundStrings(value: unknown): unknown {
  if (typeof value === 'string') return truncateText(value, MAX_TOOL_INPUT_STRING_CHARS);
  if (Array.isArray(value)) return value.map(boundStrings);
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, boundStrings(v)]));
  }
  return value;
}

/**
 * A tool_use block whose input fits the bounds: long strings cut with a note, and an input still too
 * large replaced by `{ _truncated: "…" }`, which no tool schema accepts, so the call gets an `is_error`
 * result the model can correct. Blocks within bounds are returned as they are (the same object).
 */
export function boundToolUse(block: ToolUseBlock): ToolUseBlock {
  const size = JSON.stringify(block.input).length;
  if (size <= MAX_TOOL_INPUT_STRING_CHARS) return block;
  const input = boundStrings(block.input) as Record<string, unknown>;
  if (JSON.stringify(input).length <= MAX_TOOL_INPUT_CHARS) {
    return input === block.input ? block : { ...block, input };
  }
  return {
    ...block,
    input: { _truncated: `the input of ${size} characters was too large to keep in the conversation` },
  };
}

/** The assistant content with every tool input bounded (see {@link boundToolUse}). */
export function boundAssistantContent(content: AssistantBlock[]): AssistantBlock[] {
  return content.map((block) => (block.type === 'tool_use' ? boundToolUse(block) : block));
}
