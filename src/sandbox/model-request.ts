/** An error the sandbox model answers in Anthropic's shape: `{type:"error", error:{type, message}}`. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

/** A 400 `invalid_request_error`, the Messages API's answer to a malformed request. */
export const bad = (message: string) => new ApiError(400, 'invalid_request_error', message);

/** A content block of an input message, as far as the sandbox looks into it. */
export interface InputBlock {
  type: string;
  text?: unknown;
  id?: unknown;
  name?: unknown;
  input?: unknown;
  tool_use_id?: unknown;
  content?: unknown;
  is_error?: unknown;
}

/** An input message. */
export interface InputMessage {
  role: 'user' | 'assistant';
  content: string | InputBlock[];
}

/** `tool_choice`; `auto` when the request has none. */
export type ToolChoice =
  | { type: 'auto' | 'any' | 'none'; disable_parallel_tool_use?: boolean }
  | { type: 'tool'; name: string; disable_parallel_tool_use?: boolean };

/** The prompt: what `count_tokens` counts and `usage.input_tokens` reports. */
export interface Prompt {
  model: string;
  messages: InputMessage[];
  system: unknown;
  tools: unknown[] | undefined;
  toolChoice: ToolChoice;
}

/** A validated `POST /v1/messages` request. */
export interface MessagesRequest extends Prompt {
  maxTokens: number;
  stopSequences: string[];
  stream: boolean;
}

type Body = Record<string, unknown>;

const isObject = (v: unknown): v is Body => typeof v === 'object' && v !== null && !Array.isArray(v);

function object(body: unknown): Body {
  if (!isObject(body)) throw bad('request body must be a JSON object');
  return body;
}

/** Checks the roles alternate and every tool_result answers a tool_use of the message before it. */
function validateMessages(raw: unknown): InputMessage[] {
  if (!Array.isArray(raw) || raw.length === 0) throw bad('messages: at least one message is required');
  const messages = raw as InputMessage[];
  messages.forEach((m, i) => {
    const expected = i % 2 === 0 ? 'user' : 'assistant';
    if (m?.role !== expected)
      throw bad(
        `messages.${i}.role: roles must alternate between "user" and "assistant", starting with "user"`,
      );
    if (typeof m.content !== 'string' && !Array.isArray(m.content))
      throw bad(`messages.${i}.content: must be a string or a list of blocks`);
    if (Array.isArray(m.content) && m.role === 'user') {
      const previous = messages[i - 1];
      const toolUseIds = new Set(
        Array.isArray(previous?.content)
          ? previous.content.filter((x) => x.type === 'tool_use').map((x) => x.id)
          : [],
      );
      for (const blockIn of m.content) {
        if (blockIn.type === 'tool_result' && !toolUseIds.has(blockIn.tool_use_id)) {
          throw bad(
            `messages.${i}: tool_result block(s) provided with an id not found in the previous message: ${String(blockIn.tool_use_id)}`,
          );
        }
      }
    }
  });
  return messages;
}

function validateTools(raw: unknown): unknown[] | undefined {
  if (raw === undefined) return undefined;
  if (!Array.isArray(raw)) throw bad('tools: Input should be a valid list');
  raw.forEach((t: unknown, i) => {
    if (!isObject(t) || typeof t.name !== 'string' || typeof t.input_schema !== 'object') {
      throw bad(`tools.${i}: each tool needs a name and an input_schema`);
    }
  });
  return raw as unknown[];
}

function validateSystem(raw: unknown): unknown {
  if (raw === undefined || typeof raw === 'string') return raw;
  if (!Array.isArray(raw)) throw bad('system: Input should be a valid string or a list of text blocks');
  raw.forEach((block: unknown, i) => {
    if (!isObject(block) || block.type !== 'text') throw bad(`system.${i}.type: Input should be 'text'`);
    if (typeof block.text !== 'string') throw bad(`system.${i}.text: Input should be a valid string`);
  });
  return raw;
}

function validateToolChoice(raw: unknown, tools: unknown[] | undefined): ToolChoice {
  if (raw === undefined) return { type: 'auto' };
  if (!isObject(raw)) throw bad('tool_choice: Input should be a valid dictionary');
  if (raw.type !== 'auto' && raw.type !== 'any' && raw.type !== 'tool' && raw.type !== 'none') {
    throw bad(`tool_choice.type: Input should be 'auto', 'any', 'tool' or 'none'`);
  }
  if (raw.disable_parallel_tool_use !== undefined && typeof raw.disable_parallel_tool_use !== 'boolean') {
    throw bad('tool_choice.disable_parallel_tool_use: Input should be a valid boolean');
  }
  if (!tools || tools.length === 0) throw bad('tool_choice: may only be specified while providing tools');
  if (raw.type === 'tool') {
    if (typeof raw.name !== 'string' || raw.name === '') throw bad('tool_choice.name: Field required');
    const name = raw.name;
    if (!tools.some((t) => (t as Body).name === name)) {
      throw bad(`tool_choice.name: tool "${name}" is not one of the tools provided in tools`);
    }
  }
  return raw as ToolChoice;
}

function validatePrompt(b: Body): Prompt {
  const messages = validateMessages(b.messages);
  const tools = validateTools(b.tools);
  return {
    model: b.model as string,
    messages,
    system: validateSystem(b.system),
    tools,
    toolChoice: validateToolChoice(b.tool_choice, tools),
  };
}

function validateModel(b: Body) {
  if (typeof b.model !== 'string' || b.model === '') throw bad('model: Field required');
}

/** A number in [min, max], or absent. */
function range(b: Body, field: string, min: number, max: number) {
  const v = b[field];
  if (v === undefined) return;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw bad(`${field}: Input should be a valid number`);
  if (v < min) throw bad(`${field}: Input should be greater than or equal to ${min}`);
  if (v > max) throw bad(`${field}: Input should be less than or equal to ${max}`);
}

function validateStopSequences(raw: unknown): string[] {
  if (raw === undefined) return [];
  if (!Array.isArray(raw)) throw bad('stop_sequences: Input should be a valid list');
  raw.forEach((s: unknown, i) => {
    if (typeof s !== 'string') throw bad(`stop_sequences.${i}: Input should be a valid string`);
    // An empty or blank stop sequence would match at once (the real API refuses these too).
    if (s.trim() === '') throw bad(`stop_sequences.${i}: stop sequences must contain non-whitespace`);
  });
  return raw as string[];
}

function validateMetadata(raw: unknown) {
  if (raw === undefined) return;
  if (!isObject(raw)) throw bad('metadata: Input should be a valid dictionary');
  for (const [key, value] of Object.entries(raw)) {
    if (key !== 'user_id') throw bad(`metadata.${key}: Extra inputs are not permitted`);
    if (value === null) continue;
    if (typeof value !== 'string') throw bad('metadata.user_id: Input should be a valid string');
    if (value.length > 256) throw bad('metadata.user_id: String should have at most 256 characters');
  }
}

/** Validates a `POST /v1/messages` body the way the real API rejects malformed ones (400, field named). */
export function validateMessagesRequest(body: unknown): MessagesRequest {
  const b = object(body);
  validateModel(b);
  if (typeof b.max_tokens !== 'number' || !Number.isInteger(b.max_tokens) || b.max_tokens < 1) {
    throw bad('max_tokens: Input should be a positive integer');
  }
  const prompt = validatePrompt(b);
  const stopSequences = validateStopSequences(b.stop_sequences);
  range(b, 'temperature', 0, 1);
  range(b, 'top_p', 0, 1);
  if (b.top_k !== undefined && (typeof b.top_k !== 'number' || !Number.isInteger(b.top_k)))
    throw bad('top_k: Input should be a valid integer');
  if (typeof b.top_k === 'number' && b.top_k < 0)
    throw bad('top_k: Input should be greater than or equal to 0');
  validateMetadata(b.metadata);
  if (b.stream !== undefined && typeof b.stream !== 'boolean')
    throw bad('stream: Input should be a valid boolean');
  return { ...prompt, maxTokens: b.max_tokens, stopSequences, stream: b.stream === true };
}

/** Fields of a Messages request that `count_tokens` does not take (the real API refuses extra fields). */
const NOT_FOR_COUNTING = [
  'max_tokens',
  'stream',
  'stop_sequences',
  'temperature',
  'top_p',
  'top_k',
  'metadata',
];

/** Validates a `POST /v1/messages/count_tokens` body: a Messages request without `max_tokens`. */
export function validateCountTokensRequest(body: unknown): Prompt {
  const b = object(body);
  validateModel(b);
  const extra = NOT_FOR_COUNTING.find((field) => b[field] !== undefined);
  if (extra) throw bad(`${extra}: Extra inputs are not permitted`);
  return validatePrompt(b);
}
