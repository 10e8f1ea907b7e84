/**
 * MCP servers as durable, keyed tools, on the activity side: connections, listing with digests, keyed
 * calls through the ledger, and the activities a worker registers. Workflow code imports only the
 * workflow-safe files directly: `meta.ts`, `server-spec.ts`, `tool-info.ts`, `errors.ts`.
 */
export {
  createMcpActivities,
  type McpActivities,
  type McpActivitiesOptions,
  type McpCallToolInput,
  type McpListToolsInput,
  type McpServerResolver,
} from './activities.js';
export {
  callMcpTool,
  toToolResult,
  type McpCallInput,
  type McpCallOptions,
  type McpCallOutcome,
  type McpCallResult,
  type McpToolResult,
} from './call.js';
export { classifyMcpError, isSessionGone } from './classify.js';
export {
  McpConnection,
  McpConnections,
  type McpConnectionsOptions,
  type McpRequestOptions,
} from './connections.js';
export {
  MCP_ERROR_CODES,
  McpFailureError,
  McpRequestRejectedError,
  McpServerConfigError,
  McpToolError,
  McpToolListChangedError,
  McpUnavailableError,
  type McpErrorContext,
} from './errors.js';
export { INTENT_KEY_META, REPLAYED_META } from './meta.js';
export {
  DEFAULT_MCP_TIMEOUT_MS,
  type McpHttpTransportSpec,
  type McpServerSpec,
  type McpStdioTransportSpec,
} from './server-spec.js';
export {
  mcpToolKind,
  toToolInfo,
  toToolList,
  type ListedTool,
  type McpToolAnnotations,
  type McpToolInfo,
  type McpToolKind,
  type McpToolList,
} from './tool-info.js';
export { listMcpTools } from './tools.js';
