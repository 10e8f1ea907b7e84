import { StreamableHTTPError } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';
import { OnceflowError } from '../errors.js';
import {
  McpRequestRejectedError,
  McpServerConfigError,
  McpUnavailableError,
  type McpErrorContext,
} from './errors.js';

/** JSON-RPC codes that say the request itself is wrong: sending it again cannot help. */
const REJECTED_CODES = new Set<number>([
  ErrorCode.ParseError,
  ErrorCode.InvalidRequest,
  ErrorCode.MethodNotFound,
  ErrorCode.InvalidParams,
]);

/** Node's errors of a process that could not be spawned as configured. */
const SPAWN_CONFIG_CODES = new Set(['ENOENT', 'EACCES', 'ENOTDIR']);

/**
 * True when `err` says the MCP session is gone rather than that the request failed: the server does
 * not know the session any more (HTTP 404 "Session not found" after a restart or expiry), the
 * transport closed while the request was pending (-32000, a stdio server exited), or the client had
 * no transport left. The connection must be opened again.
 */
export function isSessionGone(err: unknown): boolean {
  if (err instanceof StreamableHTTPError) return err.code === 404;
  if (err instanceof McpError) return err.code === (ErrorCode.ConnectionClosed as number);
  return err instanceof Error && err.message === 'Not connected';
}

/**
 * True when the request did not get an answer from the network under HTTP: undici's `fetch failed`
 * (refused, reset, or a keep-alive socket the server closed — typical right after a server restart).
 */
export function isNetworkFailure(err: unknown): boolean {
  return err instanceof TypeError && err.message === 'fetch failed';
}

function messageOf(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  const detail = cause instanceof Error && cause.message !== err.message ? ` (${cause.message})` : '';
  return `${err.message}${detail}`;
}

function where(context: McpErrorContext, method: string): string {
  return `MCP server "${context.server}"${context.tool ? ` tool "${context.tool}"` : ''} ${method}`;
}

/**
 * Maps an error of the MCP SDK (or of the network under it) to retryable or terminal:
 * - JSON-RPC -32700/-32600/-32601/-32602 (malformed, unknown method or tool, invalid params) →
 *   {@link McpRequestRejectedError} (terminal, told to the model);
 * - any other JSON-RPC error (-32603 internal, -32010 key in flight, -32001 timeout, -32000 closed,
 *   server-defined codes) → {@link McpUnavailableError} (retryable);
 * - HTTP 401/403, or 404 on `initialize` (no MCP endpoint there) → {@link McpServerConfigError};
 *   408, 429, 5xx and 404 later (session lost) → unavailable; other 4xx → rejected;
 * - a stdio command that cannot be spawned (ENOENT, EACCES) → {@link McpServerConfigError};
 * - everything else (`TypeError: fetch failed`, a reset socket, an aborted request) → unavailable.
 * A {@link OnceflowError} is returned unchanged.
 */
export function classifyMcpError(
  err: unknown,
  context: McpErrorContext,
  method: 'initialize' | 'tools/list' | 'tools/call',
): OnceflowError {
  if (err instanceof OnceflowError) return err;
  const at = where(context, method);
  if (err instanceof McpError) {
    const ctx = { ...context, mcpCode: err.code };
    return REJECTED_CODES.has(err.code)
      ? new McpRequestRejectedError(`${at} rejected the request: ${err.message}`, ctx, { cause: err })
      : new McpUnavailableError(`${at} failed: ${err.message}`, ctx, { cause: err });
  }
  if (err instanceof StreamableHTTPError) {
    const status = err.code ?? -1;
    const ctx = { ...context, mcpCode: status };
    if (status === 401 || status === 403 || (status === 404 && method === 'initialize')) {
      return new McpServerConfigError(`${at}: HTTP ${status}: ${err.message}`, ctx, { cause: err });
    }
    if (status >= 400 && status < 500 && ![404, 408, 409, 429].includes(status)) {
      return new McpRequestRejectedError(`${at} rejected the request: HTTP ${status}: ${err.message}`, ctx, {
        cause: err,
      });
    }
    return new McpUnavailableError(`${at} failed: ${err.message}`, ctx, { cause: err });
  }
  const code = (err as { code?: unknown } | undefined)?.code;
  if (method === 'initialize' && typeof code === 'string' && SPAWN_CONFIG_CODES.has(code)) {
    return new McpServerConfigError(`${at}: cannot start the server process: ${messageOf(err)}`, context, {
      cause: err,
    });
  }
  return new McpUnavailableError(`${at} failed: ${messageOf(err)}`, context, { cause: err });
}
