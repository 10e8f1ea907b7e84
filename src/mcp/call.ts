import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
import { effect } from '../activities/effect.js';
import { toApplicationFailure } from '../idempotency/failure.js';
import type { Ledger } from '../idempotency/ledger.js';
import type { Intent } from '../tools/effects.js';
import { classifyMcpError } from './classify.js';
import type { McpConnection, McpConnections, McpRequestOptions } from './connections.js';
import { McpToolError, McpToolListChangedError } from './errors.js';
import { INTENT_KEY_META, REPLAYED_META } from './meta.js';
import type { McpServerSpec } from './server-spec.js';
import { toToolList, type McpToolList } from './tool-info.js';

/** What to call. */
export interface McpCallInput {
  tool: string;
  arguments: Record<string, unknown>;
  /**
   * The intent the workflow derived for this call (an effect tool): the call goes through the ledger
   * and the key travels in `_meta["dev.onceflow/intent-key"]`. Absent: a plain call (a read).
   */
  intent?: Intent | undefined;
  /**
   * The tool's digest as the session recorded it (`McpToolInfo.digest`): if the server's tool now
   * differs, the call is refused with `MCP_TOOL_LIST_CHANGED` and not sent.
   */
  expectDigest?: string | undefined;
}

/** A tool's answer, as stored in the ledger and handed to the model. JSON only. */
export interface McpToolResult {
  /**
   * The content blocks as text, joined by newlines: text blocks as they are, an embedded text resource
   * by its text, other blocks as a placeholder (`[image image/png]`, `[resource_link uri]`).
   */
  text: string;
  /** The tool's structured result, when it gives one. */
  structuredContent?: Record<string, unknown>;
  /** The tool reported an error (bad input, a refusal): the model should read `text` and correct. */
  isError: boolean;
  /** The server answered from its own record of the intent key (`_meta["dev.onceflow/replayed"]`). */
  serverReplayed: boolean;
}

/**
 * How a call's answer came about: the ledger's outcome for a keyed call (`executed`, `replayed` from
 * the ledger without calling the server, `recovered` after a crashed attempt); `tool_error` for a keyed
 * call the tool answered with `isError` (returned, not recorded: the key is not used up); `unkeyed` for
 * a plain call.
 */
export type McpCallOutcome = 'executed' | 'replayed' | 'recovered' | 'tool_error' | 'unkeyed';

/** What {@link callMcpTool} returns. */
export interface McpCallResult {
  outcome: McpCallOutcome;
  /** The intent key, for a keyed call. */
  key?: string;
  result: McpToolResult;
}

/** Options of {@link callMcpTool}. */
export interface McpCallOptions extends McpRequestOptions {
  /** The ledger for keyed calls; default the one the worker plugin gives the running activity. */
  ledger?: Ledger | undefined;
}

/** One content block as text. */
function blockText(block: CallToolResult['content'][number]): string {
  switch (block.type) {
    case 'text':
      return block.text;
    case 'image':
    case 'audio':
      return `[${block.type} ${block.mimeType}]`;
    case 'resource_link':
      return `[resource_link ${block.uri}]`;
    case 'resource':
      return 'text' in block.resource && typeof block.resource.text === 'string'
        ? block.resource.text
        : `[resource ${block.resource.uri}]`;
    default:
      return `[${(block as { type: string }).type}]`;
  }
}

/** The stored form of an MCP result. */
export function toToolResult(raw: CallToolResult): McpToolResult {
  const structured = raw.structuredContent;
  return {
    text: (raw.content ?? []).map(blockText).join('\n'),
    ...(structured && typeof structured === 'object' ? { structuredContent: structured } : {}),
    isError: raw.isError === true,
    serverReplayed: raw._meta?.[REPLAYED_META] === true,
  };
}

/** Digested listings by the cached `tools/list` array they come from: hashed once per listing. */
const digested = new WeakMap<Tool[], McpToolList>();

/** Refuses the call when the tool's digest on the server is not the one the session recorded. */
async function checkDigest(
  conn: McpConnection,
  input: McpCallInput,
  options: McpRequestOptions,
): Promise<void> {
  const expected = input.expectDigest;
  if (expected === undefined) return;
  const tools = await conn.cachedTools(options);
  let list = digested.get(tools);
  if (!list) {
    list = toToolList(conn.name, tools);
    digested.set(tools, list);
  }
  const current = list.tools.find((t) => t.name === input.tool)?.digest ?? null;
  if (current !== expected) throw new McpToolListChangedError(conn.name, input.tool, expected, current);
}

/** The error a keyed call's `isError` answer is recorded with (see {@link callMcpTool}). */
export function toolErrorOf(result: McpToolResult, context: { server: string; tool: string }): McpToolError {
  return new McpToolError(result.text.slice(0, 1000) || 'the tool answered isError', context);
}

/**
 * Sends one `tools/call` carrying `key` in `_meta["dev.onceflow/intent-key"]`, after checking the tool's
 * digest, and returns the answer (an `isError` one included). No ledger: for use inside `effect()`.
 */
export async function sendKeyed(
  conn: McpConnection,
  input: McpCallInput,
  key: string,
  request: McpRequestOptions,
): Promise<McpToolResult> {
  await checkDigest(conn, input, request);
  const raw = await conn.callTool(
    { name: input.tool, arguments: input.arguments, _meta: { [INTENT_KEY_META]: key } },
    request,
  );
  return toToolResult(raw);
}

/**
 * Calls one MCP tool, inside an activity.
 *
 * **With an intent** (an effect tool), through `effect()`, the one door: the key is claimed in the ledger
 * before the server hears of it and travels in `_meta["dev.onceflow/intent-key"]`; a second call with
 * the key and terms replays the ledger's stored result without calling the server; other terms are
 * `IDEMPOTENCY_KEY_REUSED`; a concurrent duplicate is `KEY_IN_USE` (retryable); an attempt that crashed
 * mid-call is recovered by the intent's policy (`resume` sends again with the same key, which a
 * key-honouring server replays; MCP has no generic way to `verify`, so `verify` escalates). Stored:
 * {@link McpToolResult}.
 *
 * **Without an intent**, a plain `tools/call` (reads): `outcome: 'unkeyed'`.
 *
 * **Answers and failures**:
 * - `isError: true` is returned (`result.isError`), for the model to correct, never thrown. For a keyed
 *   call it is **not recorded**: the tool said it did not do it, and a stale refusal must not be
 *   replayed to the corrected call, so the ledger forgets the claim (`outcome: 'tool_error'`; no row is
 *   left). The corrected call claims the key afresh, whatever it fixed: free text, a stable field (the
 *   subject the model left out) or an identity field (a new key).
 * - an unknown tool or invalid params (JSON-RPC -32602/-32601) → `MCP_REQUEST_REJECTED`, terminal, told
 *   to the model; the claim is forgotten as well.
 * - -32603, -32010 (key in flight), timeouts, dropped connections (`fetch failed`, a stdio server that
 *   exited), a lost session → `MCP_UNAVAILABLE`, retryable and never re-sent here: the ledger releases
 *   the claim and Temporal's retry sends again **with the same key**, so an effect that committed before
 *   its answer was lost is replayed by the server, not repeated.
 * - `expectDigest` differs from the tool's digest now (checked against the connection's cached listing,
 *   refreshed on `notifications/tools/list_changed`) → `MCP_TOOL_LIST_CHANGED`, terminal, not sent
 *   (the claim is forgotten).
 *   Checked only when the call would reach the server: a replay from the ledger still answers.
 *
 * Failures are thrown as Temporal `ApplicationFailure`s (`type` = the code, `nonRetryable` =
 * `!retryable`), as `effect()` throws them, on both paths.
 */
export async function callMcpTool(
  connections: McpConnections,
  spec: McpServerSpec,
  input: McpCallInput,
  options: McpCallOptions = {},
): Promise<McpCallResult> {
  const context = { server: spec.name, tool: input.tool };
  const request = { signal: options.signal };
  const conn = connections.connection(spec);
  const intent = input.intent;
  if (!intent) {
    try {
      await checkDigest(conn, input, request);
      const raw = await conn.callTool({ name: input.tool, arguments: input.arguments }, request);
      return { outcome: 'unkeyed', result: toToolResult(raw) };
    } catch (err) {
      throw toApplicationFailure(classifyMcpError(err, context, 'tools/call'));
    }
  }

  let refused: McpToolResult | undefined;
  try {
    const done = await effect(
      intent,
      async ({ key }) => {
        const result = await sendKeyed(conn, input, key, request);
        if (result.isError) {
          refused = result;
          throw toolErrorOf(result, context);
        }
        return result;
      },
      {
        operation: `mcp:${spec.name}/${input.tool}`,
        ...(options.ledger ? { ledger: options.ledger } : {}),
      },
    );
    return { outcome: done.outcome, key: done.key, result: done.result };
  } catch (err) {
    if (refused) return { outcome: 'tool_error', key: intent.key, result: refused };
    throw err; // effect() has converted it to the ApplicationFailure Temporal sees
  }
}
