import Anthropic from '@anthropic-ai/sdk';
import { Context } from '@temporalio/activity';
import { OnceflowError } from '../errors.js';
import { toApplicationFailure } from '../idempotency/failure.js';
import { countTokens } from '../metrics.js';
import type {
  AssistantBlock,
  ConversationContext,
  Message,
  ModelRequest,
  ModelResponse,
} from '../tools/messages.js';
import type { LiveTurn } from '../stream/events.js';
import type { TaskStream } from '../stream/store.js';
import type { TranscriptStore } from '../transcript/store.js';
import { LiveTurnWriter } from './live-turn.js';

/** The model API refused the request (400, 401, 403, 404, 413, 422): retrying cannot help. */
export class ModelRequestRejectedError extends OnceflowError {
  readonly code = 'MODEL_REQUEST_REJECTED';
  readonly retryable = false;
}

/** The model API is unavailable for now (429, 5xx, 529 overloaded, connection): Temporal retries. */
export class ModelUnavailableError extends OnceflowError {
  readonly code = 'MODEL_UNAVAILABLE';
  readonly retryable = true;
}

/** The model answered something the loop cannot act on (no content, a tool_use with non-object input). */
export class ModelResponseInvalidError extends OnceflowError {
  readonly code = 'MODEL_RESPONSE_INVALID';
  readonly retryable = false;
}

/** Error types of a mid-stream `error` event that a retry cannot fix; the others (overloaded, api_error, rate limit) can. */
const STREAM_TERMINAL = new Set([
  'invalid_request_error',
  'authentication_error',
  'permission_error',
  'not_found_error',
  'request_too_large',
]);

/** Maps `@anthropic-ai/sdk` errors to retryable or terminal, the way the SDK names them. */
export function classifyModelError(err: unknown): unknown {
  if (err instanceof Anthropic.APIConnectionError) {
    return new ModelUnavailableError(`model API unreachable: ${err.message}`, { cause: err });
  }
  if (
    err instanceof Anthropic.APIError &&
    err.status === undefined &&
    !(err instanceof Anthropic.APIUserAbortError)
  ) {
    // An `error` event in the middle of a streamed answer: no HTTP status, the kind is in the body.
    const type = (err.error as { error?: { type?: unknown } } | undefined)?.error?.type;
    return typeof type === 'string' && STREAM_TERMINAL.has(type)
      ? new ModelRequestRejectedError(`model API ${type} while streaming: ${err.message}`, { cause: err })
      : new ModelUnavailableError(`model API error while streaming: ${err.message}`, { cause: err });
  }
  if (err instanceof Anthropic.APIError) {
    const status: number = typeof err.status === 'number' ? err.status : 0;
    if (status === 429 || status === 408 || status === 409 || status >= 500) {
      return new ModelUnavailableError(`model API ${status}: ${err.message}`, { cause: err });
    }
    return new ModelRequestRejectedError(`model API ${status}: ${err.message}`, { cause: err });
  }
  return err;
}

function toBlocks(content: Anthropic.ContentBlock[]): AssistantBlock[] {
  const blocks: AssistantBlock[] = [];
  for (const block of content) {
    if (block.type === 'text') {
      blocks.push({ type: 'text', text: block.text });
    } else if (block.type === 'tool_use') {
      const input = block.input;
      if (typeof input !== 'object' || input === null || Array.isArray(input)) {
        throw new ModelResponseInvalidError(`tool_use ${block.id} (${block.name}) has a non-object input`);
      }
      blocks.push({
        type: 'tool_use',
        id: block.id,
        name: block.name,
        input: input as Record<string, unknown>,
      });
    }
    // Other block kinds (thinking, server tools) are not part of this loop's conversation.
  }
  return blocks;
}

/** The live-stream writer of the current model-turn attempt. */
function liveWriter(stream: TaskStream, ctx: Context, live: LiveTurn): LiveTurnWriter | undefined {
  const { workflowExecution: run, activityId, attempt } = ctx.info;
  if (!run) return undefined; // not started by a workflow: no task to stream to
  return new LiveTurnWriter(
    stream,
    { taskId: run.workflowId, turn: `${run.runId}/${activityId}`, attempt },
    live,
    (err) => {
      ctx.log.warn('live stream write failed', { error: err instanceof Error ? err.message : String(err) });
    },
  );
}

/**
 * The model turn activity: one Messages API call, its result recorded in history. With a transcript
 * store, requests may carry the conversation by reference (only the new messages).
 */
export function createModelActivities(
  anthropic: Anthropic,
  defaults: { model: string; maxTokens: number },
  transcripts?: TranscriptStore,
  stream?: TaskStream,
) {
  const conversation = async (
    request: ModelRequest,
  ): Promise<{ context: ConversationContext; messages: Message[] }> => {
    if (request.transcript) {
      if (!transcripts) {
        throw new ModelRequestRejectedError('this worker has no transcript store; send the messages inline');
      }
      return transcripts.extend(request.transcript);
    }
    if (!request.messages || request.system === undefined || !request.tools) {
      throw new ModelRequestRejectedError('callModel needs system, tools and messages, or a transcript');
    }
    return { context: { system: request.system, tools: request.tools }, messages: request.messages };
  };
  return {
    /**
     * Calls the Messages API once. The SDK's own retries are off (`maxRetries: 0`): Temporal retries
     * retryable failures with backoff and history; terminal ones fail the turn.
     */
    async callModel(request: ModelRequest): Promise<ModelResponse> {
      const ctx = Context.current();
      const live = request.live && stream ? liveWriter(stream, ctx, request.live) : undefined;
      try {
        live?.begin();
        const { context, messages } = await conversation(request);
        const params = {
          model: request.model ?? defaults.model,
          max_tokens: request.maxTokens ?? defaults.maxTokens,
          system: context.system,
          messages,
          tools: context.tools as Anthropic.Tool[],
        };
        const options = {
          signal: ctx.cancellationSignal,
          ...(request.scenario ? { headers: { 'x-onceflow-scenario': request.scenario } } : {}),
        };
        let message: Anthropic.Message;
        if (live) {
          // Streamed: text reaches watchers as it is generated; the final message, as without
          // streaming, is what the activity returns and history records.
          const streaming = anthropic.messages.stream(params, options);
          streaming.on('streamEvent', (event) => {
            if (event.type === 'content_block_delta' && event.delta.type === 'text_delta')
              live.text(event.index, event.delta.text);
          });
          message = await streaming.finalMessage();
        } else {
          message = await anthropic.messages.create(params, options);
        }
        const content = toBlocks(message.content);
        if (content.length === 0) {
          throw new ModelResponseInvalidError(`model response ${message.id} has no text or tool_use content`);
        }
        await live?.end(content);
        countTokens(message.usage.input_tokens, message.usage.output_tokens);
        return {
          id: message.id,
          model: message.model,
          content,
          stopReason: message.stop_reason ?? 'end_turn',
          usage: { inputTokens: message.usage.input_tokens, outputTokens: message.usage.output_tokens },
          runId: ctx.info.workflowExecution?.runId ?? '',
        };
      } catch (err) {
        throw toApplicationFailure(classifyModelError(err));
      }
    },
  };
}

export type ModelActivities = ReturnType<typeof createModelActivities>;
