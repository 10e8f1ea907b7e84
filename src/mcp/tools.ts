import { toApplicationFailure } from '../idempotency/failure.js';
import { classifyMcpError } from './classify.js';
import type { McpConnections, McpRequestOptions } from './connections.js';
import type { McpServerSpec } from './server-spec.js';
import { toToolList, type McpToolList } from './tool-info.js';

export {
  mcpToolKind,
  toToolInfo,
  toToolList,
  type McpToolAnnotations,
  type McpToolInfo,
  type McpToolKind,
  type McpToolList,
} from './tool-info.js';

/**
 * Lists the tools of `spec`'s server now (every page, asked of the server, not of a cache), as a session
 * records them: each with its digest, and the list's digest, so a later call can tell that a tool
 * changed (`expectDigest` of `callMcpTool`). Also refreshes the connection's cached listing.
 *
 * A lost session (server restarted, session expired, stdio server exited) is opened again and the
 * listing asked once more. Failures are thrown as Temporal `ApplicationFailure`s, `type` the error
 * code: `MCP_UNAVAILABLE` (retryable: refused, dropped, timed out, internal error),
 * `MCP_SERVER_CONFIG` (terminal: unknown command, 401/403, no MCP endpoint),
 * `MCP_REQUEST_REJECTED` (terminal).
 */
export async function listMcpTools(
  connections: McpConnections,
  spec: McpServerSpec,
  options: McpRequestOptions = {},
): Promise<McpToolList> {
  try {
    return toToolList(spec.name, await connections.connection(spec).listTools(options));
  } catch (err) {
    throw toApplicationFailure(classifyMcpError(err, { server: spec.name }, 'tools/list'));
  }
}
