import { createHash } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultController, FaultKind, FaultRule } from './faults.js';
import {
  BodyTooLargeError,
  handleFaultAdmin,
  listen,
  readBody,
  sendJson,
  sleep,
  type Listening,
} from './http.js';
import { approxTokens, shapeOutput, type ApiMessage } from './model-output.js';
import {
  ApiError,
  bad,
  validateCountTokensRequest,
  validateMessagesRequest,
  type InputBlock,
  type InputMessage,
  type Prompt,
} from './model-request.js';
import { halfwayThroughDeltas, messageEvents, writeEventStream, type StreamPlan } from './model-stream.js';
import { fillTemplate, loadScenario, varsFrom, type ScenarioBlock, type ScenarioTurn } from './scenarios.js';

/**
 * Largest Messages API request the sandbox accepts: 32 MB, the real API's limit for standard
 * endpoints. Larger requests get Anthropic's 413 `request_too_large`.
 */
export const MODEL_MAX_REQUEST_BYTES = 32 * 1000 * 1000;

function firstUserText(messages: InputMessage[]): string {
  const first = messages[0]?.content;
  if (typeof first === 'string') return first;
  return (first ?? [])
    .filter((b) => b.type === 'text')
    .map((b) => String(b.text))
    .join('\n');
}

function lastToolResults(messages: InputMessage[]): InputBlock[] {
  const last = messages.at(-1);
  return last && Array.isArray(last.content) ? last.content.filter((b) => b.type === 'tool_result') : [];
}

function resultText(block: InputBlock): string {
  return typeof block.content === 'string' ? block.content : JSON.stringify(block.content ?? '');
}

function chooseContent(turn: ScenarioTurn, results: InputBlock[]): ScenarioBlock[] {
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

/** The prompt's size in tokens: `usage.input_tokens` and the `count_tokens` answer alike. */
const inputTokens = (prompt: Prompt) =>
  approxTokens(JSON.stringify([prompt.system ?? null, prompt.messages, prompt.tools ?? null]).length);

async function readJson(req: IncomingMessage, maxBytes: number): Promise<unknown> {
  try {
    return JSON.parse(await readBody(req, { maxBytes }));
  } catch (err) {
    throw err instanceof BodyTooLargeError
      ? new ApiError(
          413,
          'request_too_large',
          `Request exceeds the maximum allowed number of bytes (${err.limit}).`,
        )
      : bad('request body is not valid JSON');
  }
}

/** A fault meant for a stream hits a plain (`stream: false`) request as its nearest plain kind. */
const PLAIN_KIND: Partial<Record<FaultKind, FaultKind>> = {
  slow_stream: 'latency',
  hang_mid_stream: 'hang',
  error_mid_stream: 'fail_before_commit',
};

/** How a fault paces or cuts a streamed answer (nothing for faults that act before it starts). */
function streamPlan(fault: FaultRule | undefined, events: ReturnType<typeof messageEvents>): StreamPlan {
  switch (fault?.fault) {
    case 'slow_stream':
      return { delayMs: fault.latencyMs ?? 0 };
    case 'drop_after_commit':
      return { cut: { after: Math.floor(events.length / 2), then: 'drop' } };
    case 'hang_mid_stream':
      return { cut: { after: halfwayThroughDeltas(events), then: 'hang' } };
    case 'error_mid_stream':
      return { cut: { after: halfwayThroughDeltas(events), then: 'error' } };
    default:
      return {};
  }
}

/**
 * An Anthropic-compatible `POST /v1/messages` (streamed with `stream: true`) and
 * `POST /v1/messages/count_tokens` that play scripted scenarios, chosen by the `x-onceflow-scenario`
 * header. Stateless: the turn is the number of assistant messages already in the conversation, so a
 * retried or replayed request gets the same answer.
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
    countTokens: 0,
    scenarios: {} as Record<string, number>,
    conversations: {} as Record<string, number>,
  };

  async function messagesRoute(req: IncomingMessage, res: ServerResponse) {
    stats.requests++;
    const raw = await readJson(req, maxBytes);
    const request = validateMessagesRequest(raw);
    const { messages } = request;
    const name = req.headers['x-onceflow-scenario'];
    if (typeof name !== 'string' || name === '')
      throw bad('the sandbox model needs an x-onceflow-scenario header naming a scenario');
    const scenario = loadScenario(name, options.scenariosDir);
    if (!scenario) throw bad(`unknown scenario "${name}"`);
    const conversation = firstUserText(messages);
    stats.scenarios[name] = (stats.scenarios[name] ?? 0) + 1;
    stats.conversations[conversation] = (stats.conversations[conversation] ?? 0) + 1;

    const fault = options.faults.take({ method: 'POST', path: '/v1/messages', scenario: name });
    const kind = request.stream ? fault?.fault : fault && (PLAIN_KIND[fault.fault] ?? fault.fault);
    if (kind === 'latency') await sleep(fault?.latencyMs ?? 0);
    if (kind === 'fail_before_commit')
      throw new ApiError(529, 'overloaded_error', 'Overloaded (sandbox fault)');
    if (kind === 'hang') return;

    const index = messages.filter((m) => m.role === 'assistant').length;
    const turn = scenario.turns[index];
    if (!turn)
      throw bad(
        `scenario "${name}" has ${scenario.turns.length} turns; the conversation asks for turn ${index + 1}`,
      );
    const scripted = fillTemplate(chooseContent(turn, lastToolResults(messages)), varsFrom(conversation));
    const output = shapeOutput(scripted, request, `${index + 1} of scenario "${name}"`);
    // Derived from the scenario, turn and conversation, so a retried request gets the same id.
    const id = `msg_${createHash('sha256').update(`${name}|${index}|${conversation}`).digest('hex').slice(0, 24)}`;
    const body: ApiMessage = {
      id,
      type: 'message',
      role: 'assistant',
      model: request.model,
      content: output.content,
      stop_reason: output.stopReason,
      stop_sequence: output.stopSequence,
      stop_details: null,
      usage: {
        input_tokens: inputTokens(request),
        output_tokens: output.outputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
      },
    };
    if (kind === 'drop_after_commit' && !request.stream) {
      req.socket.destroy();
      return;
    }
    if (kind === 'delay_after_commit') await sleep(fault?.latencyMs ?? 0);
    const headers = { 'request-id': `req_${id.slice(4)}` };
    if (!request.stream) return sendJson(res, 200, body, headers);
    const events = messageEvents(body);
    return writeEventStream(res, events, headers, streamPlan(fault, events));
  }

  async function countTokensRoute(req: IncomingMessage, res: ServerResponse) {
    stats.countTokens++;
    const prompt = validateCountTokensRequest(await readJson(req, maxBytes));
    sendJson(res, 200, { input_tokens: inputTokens(prompt) });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://sandbox');
    const method = req.method ?? 'GET';
    const route =
      url.pathname === '/v1/messages'
        ? messagesRoute
        : url.pathname === '/v1/messages/count_tokens'
          ? countTokensRoute
          : undefined;
    if (route) {
      if (method !== 'POST')
        throw new ApiError(405, 'invalid_request_error', `Method ${method} not allowed on ${url.pathname}`);
      if (!req.headers['x-api-key'] && !req.headers.authorization) {
        throw new ApiError(401, 'authentication_error', 'x-api-key header is required');
      }
      return route(req, res);
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
