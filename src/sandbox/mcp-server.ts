import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  ListToolsRequestSchema,
  type RequestId,
} from '@modelcontextprotocol/sdk/types.js';
import { INTENT_KEY_META } from '../mcp/meta.js';
import type { TicketDesk } from './mcp-desk.js';

/** How a connection of the desk's MCP server is carried. */
export interface DeskConnection {
  transport: 'http' | 'stdio';
  /** Ends the connection carrying the answer to request `requestId` of `sessionId`, unanswered. */
  drop?: (sessionId: string | undefined, requestId: RequestId) => void;
}

/** The implementation info the server reports on `initialize`. */
export const TICKET_DESK_INFO = { name: 'onceflow-sandbox-ticket-desk', version: '1.0.0' };

/**
 * An MCP server (one per HTTP session, or the stdio connection) in front of the shared desk. It
 * advertises `tools.listChanged` and sends `notifications/tools/list_changed` when the desk's tool
 * list switches.
 *
 * The SDK's low-level `Server` (tagged deprecated in favour of `McpServer`, which it builds on) is used
 * on purpose: `McpServer` 1.x turns every error of a tool call, an unknown tool included, into an
 * `isError` result and hands handlers validated arguments only, while the sandbox must answer some
 * failures as protocol errors and fingerprints the arguments an intent key was used with.
 */
export function deskServer(desk: TicketDesk, connection: DeskConnection): Server {
  const server = new Server(TICKET_DESK_INFO, {
    capabilities: { tools: { listChanged: true } },
    instructions: `A sandbox ticket desk. Effect tools honour an intent key in _meta["${INTENT_KEY_META}"]: the same key with the same arguments replays the first result.`,
  });
  server.setRequestHandler(ListToolsRequestSchema, () => ({ tools: desk.listTools() }));
  server.setRequestHandler(CallToolRequestSchema, (request, extra) => {
    const { drop } = connection;
    return desk.call(request.params.name, request.params.arguments, request.params._meta, {
      transport: connection.transport,
      sessionId: extra.sessionId,
      signal: extra.signal,
      drop: drop && (() => drop(extra.sessionId, extra.requestId)),
    });
  });
  const unsubscribe = desk.onToolsChanged(() => {
    server.sendToolListChanged().catch(() => undefined);
  });
  server.onclose = unsubscribe;
  return server;
}
