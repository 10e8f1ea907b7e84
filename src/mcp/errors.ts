/**
 * The errors of MCP tool calls, by what the caller should do about them. Each has a stable `code` (the
 * Temporal failure type the workflow sees) and `retryable`. No SDK imports: workflow code may import
 * the codes ({@link MCP_ERROR_CODES}); the mapping from the SDK's errors is in `classify.ts`.
 *
 * A tool's own error answer (`isError: true`) is none of these: it is a result the model reads and
 * corrects (see `callMcpTool`).
 */
import { OnceflowError } from '../errors.js';

/** Failure types of MCP activities, as workflow code matches them on `ApplicationFailure.type`. */
export const MCP_ERROR_CODES = {
  unavailable: 'MCP_UNAVAILABLE',
  rejected: 'MCP_REQUEST_REJECTED',
  toolListChanged: 'MCP_TOOL_LIST_CHANGED',
  serverConfig: 'MCP_SERVER_CONFIG',
  toolError: 'MCP_TOOL_ERROR',
  compensationArguments: 'MCP_COMPENSATION_ARGUMENTS',
} as const;

/** Where an MCP failure happened. */
export interface McpErrorContext {
  /** The server's name (`McpServerSpec.name`). */
  server: string;
  /** The tool called, for `tools/call`. */
  tool?: string | undefined;
  /** The JSON-RPC error code (or HTTP status) the server or SDK answered with, if any. */
  mcpCode?: number | undefined;
}

/** Base of the MCP errors: the server (and tool) concerned, carried as the failure's details. */
export abstract class McpFailureError extends OnceflowError {
  readonly server: string;
  readonly tool: string | undefined;
  readonly mcpCode: number | undefined;

  constructor(message: string, context: McpErrorContext, options?: { cause?: unknown }) {
    super(message, options);
    this.server = context.server;
    this.tool = context.tool;
    this.mcpCode = context.mcpCode;
  }

  /** JSON details of the Temporal failure. */
  get details(): { server: string; tool: string | null; mcpCode: number | null } {
    return { server: this.server, tool: this.tool ?? null, mcpCode: this.mcpCode ?? null };
  }
}

/**
 * The server could not answer now, or its answer was lost: the connection was refused or dropped
 * (`fetch failed`, stdio process gone), the request timed out, the session was lost mid-call, the
 * server failed internally (JSON-RPC -32603) or says the intent key is still being performed (-32010).
 * Retryable. For a `tools/call` the outcome may be unknown (committed, then the answer lost): the
 * retry goes through the ledger with the same intent key, so a key-honouring server replays instead of
 * acting twice.
 */
export class McpUnavailableError extends McpFailureError {
  static readonly CODE = MCP_ERROR_CODES.unavailable;
  readonly code = McpUnavailableError.CODE;
  readonly retryable = true;
}

/**
 * The server refused the request as malformed: an unknown tool or invalid parameters (JSON-RPC -32602,
 * -32601, -32600, -32700), or a result that breaks the tool's declared output schema. Terminal (the
 * same request fails the same way) and told to the model, which can pick another tool or fix its input.
 * Nothing was done, so an intent key is not used up.
 */
export class McpRequestRejectedError extends McpFailureError {
  static readonly CODE = MCP_ERROR_CODES.rejected;
  readonly code = McpRequestRejectedError.CODE;
  readonly retryable = false;
  override readonly toldToModel = true;
  override readonly nothingDone = true;
}

/**
 * The tool the session recorded has changed on the server (its description, input schema or
 * annotations), or is no longer listed: calling it now would use a tool nobody reviewed under the terms
 * the model saw. Terminal and not sent to the server. The session must list the tools again (and
 * decide whether the new definition is acceptable) before calling it.
 */
export class McpToolListChangedError extends McpFailureError {
  static readonly CODE = MCP_ERROR_CODES.toolListChanged;
  readonly code = McpToolListChangedError.CODE;
  readonly retryable = false;
  /** The model is told the tool cannot be used in this session, and can carry on without it. */
  override readonly toldToModel = true;
  /** Never sent. */
  override readonly nothingDone = true;
  /** The tool digest the session recorded. */
  readonly expectedDigest: string;
  /** The tool's digest on the server now; `null` when the tool is no longer listed. */
  readonly currentDigest: string | null;

  constructor(server: string, tool: string, expectedDigest: string, currentDigest: string | null) {
    super(
      currentDigest === null
        ? `MCP tool "${tool}" of server "${server}" is no longer listed by the server; list the tools again before calling it`
        : `MCP tool "${tool}" of server "${server}" changed since the session listed it (digest ${expectedDigest}, now ${currentDigest}); list the tools again before calling it`,
      { server, tool },
    );
    this.expectedDigest = expectedDigest;
    this.currentDigest = currentDigest;
  }

  override get details() {
    return { ...super.details, expectedDigest: this.expectedDigest, currentDigest: this.currentDigest };
  }
}

/**
 * The server cannot be reached as configured: no server of that name, the stdio command does not exist,
 * the endpoint refuses our credentials (HTTP 401/403) or is no MCP endpoint. Terminal: fix the
 * agent's server declaration or the worker's configuration.
 */
export class McpServerConfigError extends McpFailureError {
  static readonly CODE = MCP_ERROR_CODES.serverConfig;
  readonly code = McpServerConfigError.CODE;
  readonly retryable = false;
}

/**
 * The tool answered with an error result (`isError: true`: bad input, a refusal, "not found"). Not a
 * failure of the call: `callMcpTool` returns the result for the model to read and correct. It exists
 * for the ledger: thrown inside `effect()`, it makes the ledger forget the intent key's claim instead
 * of storing the answer (`nothingDone`), so the corrected call (with other terms too: the subject the
 * model forgot) claims the key afresh.
 */
export class McpToolError extends McpFailureError {
  static readonly CODE = MCP_ERROR_CODES.toolError;
  readonly code = McpToolError.CODE;
  readonly retryable = false;
  override readonly toldToModel = true;
  override readonly nothingDone = true;
}

/**
 * A compensation's arguments could not be built: a `$result` or `$arguments` path names nothing in the
 * step's recorded result or arguments. Terminal: the saga marks the step for a person, with the path
 * and what was there, rather than calling the undoing tool with a guess.
 */
export class McpCompensationArgumentsError extends McpFailureError {
  static readonly CODE = MCP_ERROR_CODES.compensationArguments;
  readonly code = McpCompensationArgumentsError.CODE;
  readonly retryable = false;
}
