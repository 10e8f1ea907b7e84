import { bad, type MessagesRequest, type ToolChoice } from './model-request.js';
import type { ScenarioBlock } from './scenarios.js';

/** Why the answer ended, as the Messages API says it. */
export type StopReason = 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';

/** A finished answer of the sandbox model: the body of a non-streamed response. */
export interface ApiMessage {
  id: string;
  type: 'message';
  role: 'assistant';
  model: string;
  content: ScenarioBlock[];
  stop_reason: StopReason;
  stop_sequence: string | null;
  stop_details: null;
  usage: {
    input_tokens: number;
    output_tokens: number;
    cache_creation_input_tokens: number;
    cache_read_input_tokens: number;
  };
}

/** The scripted content after the request's `tool_choice`, `stop_sequences` and `max_tokens`. */
export interface Output {
  content: ScenarioBlock[];
  stopReason: StopReason;
  stopSequence: string | null;
  outputTokens: number;
}

/** The sandbox's stand-in for a tokenizer: ~4 characters a token, at least 1. */
export const approxTokens = (chars: number) => Math.max(1, Math.ceil(chars / 4));

/** What answers `tool_choice: none` when the scripted turn held nothing but tool calls. */
export const NO_TOOL_TEXT = 'I would call a tool here, but tool_choice is none.';

/** The characters a block costs in output tokens: its text, or its tool input as JSON. */
export const emittedText = (block: ScenarioBlock): string =>
  block.type === 'text' ? block.text : JSON.stringify(block.input ?? {});

/** `end` moved back by one when it would split a UTF-16 surrogate pair, so cuts stay valid text. */
export function safeCut(text: string, end: number): number {
  const code = text.charCodeAt(end - 1);
  return end > 0 && end < text.length && code >= 0xd800 && code <= 0xdbff ? end - 1 : end;
}

function applyToolChoice(content: ScenarioBlock[], choice: ToolChoice, turn: string): ScenarioBlock[] {
  if (choice.type === 'none') {
    const rest = content.filter((b) => b.type !== 'tool_use');
    return rest.length === 0 && content.length > 0 ? [{ type: 'text', text: NO_TOOL_TEXT }] : rest;
  }
  let blocks = content;
  if (choice.type === 'any' || choice.type === 'tool') {
    const wanted = choice.type === 'tool' ? choice.name : undefined;
    const first = content.findIndex((b) => b.type === 'tool_use' && (!wanted || b.name === wanted));
    if (first === -1) {
      throw bad(
        `tool_choice: the scripted turn ${turn} has no tool_use${wanted ? ` of "${wanted}"` : ''}, so it cannot satisfy tool_choice ${JSON.stringify(choice)}`,
      );
    }
    // The real API prefills the answer with the tool call when a tool is forced, so there is no text
    // before it.
    blocks = content.slice(first);
  }
  if (choice.disable_parallel_tool_use) {
    let seen = false;
    blocks = blocks.filter((b) => {
      if (b.type !== 'tool_use') return true;
      if (seen) return false;
      seen = true;
      return true;
    });
  }
  return blocks;
}

/** Where generation would stop on a stop sequence: the one that completes first, cut before it. */
function firstStop(text: string, sequences: string[]): { index: number; sequence: string } | undefined {
  let best: { index: number; sequence: string; end: number } | undefined;
  for (const sequence of sequences) {
    const index = text.indexOf(sequence);
    if (index !== -1 && (!best || index + sequence.length < best.end)) {
      best = { index, sequence, end: index + sequence.length };
    }
  }
  return best && { index: best.index, sequence: best.sequence };
}

/**
 * Applies the request to the scripted content of a turn (`turn` names it in errors): `tool_choice`
 * (400 when the script cannot satisfy it), then the first stop sequence in a text block, or the
 * `max_tokens` budget, cuts the text and drops what follows. Tool calls are never cut: a scripted call
 * is all or nothing (it still counts towards the budget, so text after a large one may be cut).
 */
export function shapeOutput(content: ScenarioBlock[], request: MessagesRequest, turn: string): Output {
  const budget = request.maxTokens * 4;
  const out: ScenarioBlock[] = [];
  let used = 0;
  const done = (stopReason: StopReason, stopSequence: string | null = null): Output => ({
    content: out,
    stopReason,
    stopSequence,
    outputTokens: approxTokens(out.reduce((sum, b) => sum + emittedText(b).length, 0)),
  });
  const cut = (text: string, end: number) => {
    const kept = text.slice(0, safeCut(text, end));
    // An empty text block is not something the API answers (nor accepts back in the next request).
    if (kept !== '') out.push({ type: 'text', text: kept });
  };
  for (const block of applyToolChoice(content, request.toolChoice, turn)) {
    if (block.type === 'tool_use') {
      out.push(block);
      used += emittedText(block).length;
      continue;
    }
    const room = Math.max(0, budget - used);
    const stop = firstStop(block.text, request.stopSequences);
    if (stop && stop.index <= room) {
      cut(block.text, stop.index);
      return done('stop_sequence', stop.sequence);
    }
    if (block.text.length > room) {
      cut(block.text, room);
      return done('max_tokens');
    }
    out.push(block);
    used += block.text.length;
  }
  return done(out.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn');
}
