/**
 * How to reach one MCP server. Plain JSON data with no imports, so an agent definition (and workflow
 * state) can hold it: only activities connect (see `McpConnections`).
 */

/** The Streamable HTTP transport: one endpoint URL, optional extra request headers (an auth token). */
export interface McpHttpTransportSpec {
  type: 'http';
  /** The server's MCP endpoint, e.g. `https://tickets.example.com/mcp`. */
  url: string;
  /** Sent with every request (e.g. `Authorization`). Keep secrets out of workflow state: resolve them in the worker. */
  headers?: Record<string, string>;
}

/** The stdio transport: the worker spawns the server as a child process and talks over its stdin/stdout. */
export interface McpStdioTransportSpec {
  type: 'stdio';
  command: string;
  args?: string[];
  /**
   * Added to the SDK's safe default environment (`HOME`, `PATH`, …); the worker's own environment is not
   * inherited otherwise.
   */
  env?: Record<string, string>;
  /** Working directory of the process; default the worker's. */
  cwd?: string;
}

/** One MCP server an agent takes tools from. */
export interface McpServerSpec {
  /** Unique among the agent's servers; the connection pool and the tool names are keyed by it. */
  name: string;
  transport: McpHttpTransportSpec | McpStdioTransportSpec;
  /**
   * Longest wait for one request's answer (`initialize`, `tools/list`, `tools/call`), in ms; default
   * 30 000. A call that times out is retryable: its outcome is unknown, the ledger and the intent key
   * decide what the retry does.
   */
  timeoutMs?: number;
}

/** Default of {@link McpServerSpec.timeoutMs}. */
export const DEFAULT_MCP_TIMEOUT_MS = 30_000;
