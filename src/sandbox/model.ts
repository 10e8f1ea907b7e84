import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultController } from './faults.js';
import {
  BodyTooLargeError,
  handleFaultAdmin,
  listen,
  readBody,
  sendJson,
  sleep,
  type Listening,
} from './http.js';
import { fillTemplate, loadScenario, varsFrom, type ScenarioBlock, type ScenarioTurn } from './scenarios.js';

class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const bad = (message: string) => new ApiError(400, 'invalid_request_error', message);

/**
 * Largest Messages API request the sandbox accepts: 32 MB, the real API's limit for standard
 * endpoints. Larger requests get Anthropic's 413 `request_too_large`.
 */
export const MODEL_MAX_REQUEST_BYTES = 32 * 1000 * 1000;

interface Block {
  type: string;
  text?: unknown;
  id?: unknown;
  name?: unknown;
  input?: unknown;
  tool_use_id?: unknown;
  content?: unknown;
  is_error?: unknown;
}
interface Message {
  role: 'user' | 'assistant';
  content: string | Block[];
}

/** Validates a Messages API request the way the real API rejects malformed ones. */
function validate(body: unknown): { model: string; messages: Message[] } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw bad('request body must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.model !== 'string' || b.model === '') throw bad('model: Field required');
  if (typeof b.max_tokens !== 'number' || !Number.isInteger(b.max_tokens) || b.max_tokens < 1) {
    throw bad('max_tokens: Input should be a positive integer');
  }
  if (!Array.isArray(b.messages) || b.messages.length === 0)
    throw bad('messages: at least one message is required');
  if (b.tools !== undefined) {
    if (!Array.isArray(b.tools)) throw bad('tools: Input should be a valid list');
    b.tools.forEach((t: unknown, i) => {
      const tool = t as Record<string, unknown>;
      if (typeof tool?.name !== 'string' || typeof tool.input_schema !== 'object') {
        throw bad(`tools.${i}: each tool needs a name and an input_schema`);
      }
    });
  }
  const messages = b.messages as Message[];
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
  return { model: b.model, messages };
}

function firstUserText(messages: Message[]): string {
  const first = messages[0]?.content;
  if (typeof first === 'string') return first;
  return (first ?? [])
    .filter((b) => b.type === 'text')
    .map((b) => String(b.text))
    .join('\n');
}

function lastToolResults(messages: Message[]): Block[] {
  const last = messages.at(-1);
  return last && Array.isArray(last.content) ? last.content.filter((b) => b.type === 'tool_result') : [];
}

function resultText(block: Block): string {
  return typeof block.content === 'string' ? block.content : JSON.stringify(block.content ?? '');
}

function chooseContent(turn: ScenarioTurn, results: Block[]): ScenarioBlock[] {
  for (const [i, expectation] of (turn.expect?.toolResults ?? []).entries()) {
    const actual = results[i];
    if (!actual) throw bad(`scenario expected tool result #${i + 1}, got ${results.length}`);
    if (expectation.isError !== undefined && (actual.is_error === true) !== expectation.isError) {
      throw bad(
        `scenario expected tool result #${i + 1} is_error=${expectation.isError}, got: ${resultText(actual)}`,
      );
    }
    if (expectation.includes !== undefined && !resultText(actual).includes(expectation.includes)) {
      throw bad(
        `scenario expected tool result #${i + 1} to include "${expectation.includes}", got: ${resultText(actual)}`,
      );
    }
  }
  if ('content' in turn) return turn.content;
  const text = results.map(resultText).join('\n');
  const variant = turn.variants.find((v) => !v.when || text.includes(v.when.lastToolResultIncludes));
  if (!variant) throw bad('no scenario variant matches the tool results');
  return variant.content;
}

const tokens = (value: unknown) => Math.max(1, Math.ceil(JSON.stringify(value).length / 4));

/**
 * An Anthropic-compatible `POST /v1/messages` that plays scripted scenarios, chosen by the
 * `x-onceflow-scenario` header. Stateless: the turn is the number of assistant messages already in
 * the conversation, so a retried or replayed request gets the same answer.
 */
export async function startModelServer(options: {
  host: string;
  port: number;
  faults: FaultController;
  scenariosDir?: string;
  /** Largest request body accepted, in bytes; default {@link MODEL_MAX_REQUEST_BYTES}. */
  maxRequestBytes?: number;
}): Promise<Listening> {
  const maxBytes = options.maxRequestBytes ?? MODEL_MAX_REQUEST_BYTES;
  const stats = {
    requests: 0,
    scenarios: {} as Record<string, number>,
    conversations: {} as Record<string, number>,
  };

  async function messagesRoute(req: IncomingMessage, res: ServerResponse) {
    stats.requests++;
    let raw: unknown;
    try {
      raw = JSON.parse(await readBody(req, { maxBytes }));
    } catch (err) {
      throw err instanceof BodyTooLargeError
        ? new ApiError(
            413,
            'request_too_large',
            `Request exceeds the maximum allowed number of bytes (${err.limit}).`,
          )
        : bad('request body is not valid JSON');
    }
    const { model, messages } = validate(raw);
    const name = req.headers['x-onceflow-scenario'];
    if (typeof name !== 'string' || name === '')
      throw bad('the sandbox model needs an x-onceflow-scenario header naming a scenario');
    const scenario = loadScenario(name, options.scenariosDir);
    if (!scenario) throw bad(`unknown scenario "${name}"`);
    const conversation = firstUserText(messages);
    stats.scenarios[name] = (stats.scenarios[name] ?? 0) + 1;
    stats.conversations[conversation] = (stats.conversations[conversation] ?? 0) + 1;

    const fault = options.faults.take({ method: 'POST', path: '/v1/messages', scenario: name });
    if (fault?.fault === 'latency') await sleep(fault.latencyMs ?? 0);
    if (fault?.fault === 'fail_before_commit')
      throw new ApiError(529, 'overloaded_error', 'Overloaded (sandbox fault)');
    if (fault?.fault === 'hang') return;

    const index = messages.filter((m) => m.role === 'assistant').length;
    const turn = scenario.turns[index];
    if (!turn)
      throw bad(
        `scenario "${name}" has ${scenario.turns.length} turns; the conversation asks for turn ${index + 1}`,
      );
    const content = fillTemplate(chooseContent(turn, lastToolResults(messages)), varsFrom(conversation));
    const id = `msg_${createHash('sha256').update(`${name}|${index}|${conversation}`).digest('hex').slice(0, 24)}`;
    const body = {
      id,
      type: 'message',
      role: 'assistant',
      model,
      content,
      stop_reason: content.some((b) => b.type === 'tool_use') ? 'tool_use' : 'end_turn',
      stop_sequence: null,
      usage: {
        input_tokens: tokens(raw),
        output_tokens: tokens(content),
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    };
    if (fault?.fault === 'drop_after_commit') {
      req.socket.destroy();
      return;
    }
    if (fault?.fault === 'delay_after_commit') await sleep(fault.latencyMs ?? 0);
    sendJson(res, 200, body, { 'request-id': `req_${id.slice(4)}` });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    if (url.pathname === '/v1/messages') {
      if (method !== 'POST')
        throw new ApiError(405, 'invalid_request_error', `Method ${method} not allowed on /v1/messages`);
      if (!req.headers['x-api-key'] && !req.headers.authorization) {
        throw new ApiError(401, 'authentication_error', 'x-api-key header is required');
      }
      return messagesRoute(req, res);
    }
    const admin = await handleFaultAdmin(req, res, options.faults, (message) => ({
      type: 'error',
      error: { type: 'invalid_request_error', message },
    }));
    if (admin) return;
    if (url.pathname === '/__admin/stats' && method === 'GET')
      return sendJson(res, 200, { ...stats, faults: options.faults.injected() });
    throw new ApiError(404, 'not_found_error', `Not found: ${method} ${url.pathname}`);
  }

  return listen(options.host, options.port, handle, (res, err) => {
    const e =
      err instanceof ApiError
        ? err
        : new ApiError(500, 'api_error', err instanceof Error ? err.message : String(err));
    // After a 413 the connection is not reused: the client may not have finished sending.
    sendJson(
      res,
      e.status,
      { type: 'error', error: { type: e.type, message: e.message } },
      e.status === 413 ? { connection: 'close' } : {},
    );
  });
}
