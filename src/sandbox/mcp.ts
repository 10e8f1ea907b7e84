import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest, type RequestId } from '@modelcontextprotocol/sdk/types.js';
import type pg from 'pg';
import type { FaultController } from './faults.js';
import { BodyTooLargeError, handleFaultAdmin, listen, readBody, sendJson, type Listening } from './http.js';
import { TicketDesk } from './mcp-desk.js';
import { deskServer } from './mcp-server.js';
import { TOOL_VARIANTS, type ToolVariant } from './mcp-tools.js';

export { INTENT_IN_PROGRESS_CODE, TicketDesk } from './mcp-desk.js';
export { INTENT_KEY_META, REPLAYED_META, type ToolVariant } from './mcp-tools.js';

/** Options of {@link startMcpServer}. */
export interface McpServerOptions {
  pool: pg.Pool;
  host: string;
  /** 0 = ephemeral. */
  port: number;
  faults: FaultController;
  /** The tool list served at start; default `v1`. */
  variant?: ToolVariant;
}

/** The listening MCP sandbox: its endpoint URL and desk (tool variant, counters). */
export interface McpListening extends Listening {
  /** The Streamable HTTP endpoint, `http://host:port/mcp`. */
  url: string;
  desk: TicketDesk;
}

function jsonRpcError(res: ServerResponse, status: number, code: number, message: string) {
  sendJson(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}

/** Ids of the `tools/call` requests in a POSTed JSON-RPC message or batch. */
function toolCallIds(body: unknown): RequestId[] {
  const messages: unknown[] = Array.isArray(body) ? body : [body];
  return messages.flatMap((m) => {
    const msg = m as { method?: unknown; id?: unknown } | null;
    return msg?.method === 'tools/call' && (typeof msg.id === 'string' || typeof msg.id === 'number')
      ? [msg.id]
      : [];
  });
}

/**
 * The sandbox ticket desk as an MCP server over Streamable HTTP at `/mcp` (stateful sessions: the
 * SDK's `StreamableHTTPServerTransport`, one MCP server per session over one shared desk), with the
 * admin routes `POST|DELETE /__admin/faults`, `GET /__admin/stats` and `GET|POST /__admin/tools`
 * (`{ "variant": "v2" }` switches the tool list and notifies every session).
 */
export async function startMcpServer(options: McpServerOptions): Promise<McpListening> {
  const desk = new TicketDesk({
    pool: options.pool,
    faults: options.faults,
    ...(options.variant ? { variant: options.variant } : {}),
  });
  const sessions = new Map<string, StreamableHTTPServerTransport>();
  // The HTTP response that will carry the answer of each tools/call in flight, by session and request
  // id: what `drop_after_commit` destroys.
  const answering = new Map<string, ServerResponse>();
  const callKey = (sessionId: string | undefined, id: RequestId) => `${sessionId ?? ''} ${String(id)}`;

  async function openSession(): Promise<StreamableHTTPServerTransport> {
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      // Plain JSON answers to POSTs rather than an SSE stream per request: a dropped connection then
      // fails the client's call at once, as a dropped HTTP response does, instead of leaving it
      // pending until its timeout. Notifications still reach the client on the session's GET stream.
      enableJsonResponse: true,
      onsessioninitialized: (id) => {
        sessions.set(id, transport);
      },
    });
    transport.onclose = () => {
      if (transport.sessionId) sessions.delete(transport.sessionId);
    };
    await deskServer(desk, {
      transport: 'http',
      drop: (sessionId, id) => answering.get(callKey(sessionId, id))?.socket?.destroy(),
    }).connect(transport);
    return transport;
  }

  async function mcpRoute(req: IncomingMessage, res: ServerResponse) {
    const sessionId = req.headers['mcp-session-id'];
    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = JSON.parse(await readBody(req));
      } catch (err) {
        const tooLarge = err instanceof BodyTooLargeError;
        return jsonRpcError(res, tooLarge ? 413 : 400, -32700, tooLarge ? err.message : 'Parse error');
      }
    }
    let transport = typeof sessionId === 'string' ? sessions.get(sessionId) : undefined;
    if (sessionId !== undefined && !transport) return jsonRpcError(res, 404, -32001, 'Session not found');
    if (!transport) {
      if (req.method !== 'POST' || !isInitializeRequest(body)) {
        return jsonRpcError(res, 400, -32000, 'Bad Request: no session; send initialize first');
      }
      transport = await openSession();
    }
    const calls = toolCallIds(body).map((id) => callKey(transport.sessionId, id));
    for (const call of calls) answering.set(call, res);
    try {
      await transport.handleRequest(req, res, body);
    } finally {
      for (const call of calls) answering.delete(call);
    }
  }

  async function toolsAdmin(req: IncomingMessage, res: ServerResponse) {
    if (req.method === 'POST') {
      let variant: unknown;
      try {
        variant = (JSON.parse(await readBody(req)) as { variant?: unknown }).variant;
      } catch {
        return sendJson(res, 400, { error: 'invalid JSON body' });
      }
      if (!TOOL_VARIANTS.includes(variant as ToolVariant)) {
        return sendJson(res, 400, { error: `variant must be one of ${TOOL_VARIANTS.join(', ')}` });
      }
      desk.setVariant(variant as ToolVariant);
    }
    sendJson(res, 200, { variant: desk.variant, tools: desk.listTools() });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://sandbox').pathname;
    if (path === '/mcp') return mcpRoute(req, res);
    if (await handleFaultAdmin(req, res, options.faults, (error) => ({ error }))) return;
    if (path === '/__admin/stats' && req.method === 'GET') {
      return sendJson(res, 200, {
        ...desk.stats,
        variant: desk.variant,
        sessions: sessions.size,
        faults: options.faults.injected(),
      });
    }
    if (path === '/__admin/tools' && (req.method === 'GET' || req.method === 'POST'))
      return toolsAdmin(req, res);
    sendJson(res, 404, { error: `Not found: ${req.method ?? 'GET'} ${path}` });
  }

  const listening = await listen(options.host, options.port, handle, (res, err) =>
    jsonRpcError(res, 500, -32603, err instanceof Error ? err.message : String(err)),
  );
  return {
    ...listening,
    url: `http://${options.host}:${listening.port}/mcp`,
    desk,
    close: async () => {
      desk.close();
      for (const transport of sessions.values()) await transport.close().catch(() => undefined);
      await listening.close();
    },
  };
}
