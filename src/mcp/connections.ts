import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { RequestOptions } from '@modelcontextprotocol/sdk/shared/protocol.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import {
  CallToolResultSchema,
  ToolListChangedNotificationSchema,
  type CallToolResult,
  type Implementation,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import { canonicalJson } from '../idempotency/canonical.js';
import { classifyMcpError, isNetworkFailure, isSessionGone } from './classify.js';
import { DEFAULT_MCP_TIMEOUT_MS, type McpServerSpec } from './server-spec.js';

/** Most sends of one `tools/list` (see {@link McpConnection.listTools}). */
const LIST_ATTEMPTS = 3;

/** Default of {@link McpConnectionsOptions.notifiedListingTtlMs}. */
const DEFAULT_NOTIFIED_TTL_MS = 60_000;

/** Most `tools/list` pages followed before giving up on a server that never stops paginating. */
const MAX_LIST_PAGES = 100;

/** Options of {@link McpConnections}. */
export interface McpConnectionsOptions {
  /** What the client reports on `initialize`. Default `{ name: 'onceflow', version: '0' }`. */
  clientInfo?: Implementation;
  /** Request timeout of servers whose spec sets none, in ms. Default 30 000. */
  defaultTimeoutMs?: number;
  /**
   * How long a cached tool listing is trusted for tool-change checks when the server does not advertise
   * `tools.listChanged` (so no notification would tell us of a change), in ms. Default 0: such servers
   * are listed again before each checked call.
   */
  unnotifiedListingTtlMs?: number;
  /**
   * How long a cached listing is trusted when the server does advertise `tools.listChanged`, in ms:
   * it is dropped at once on `notifications/tools/list_changed` and on any transport error (a
   * notification may have been lost with a broken stream), and after this age in any case, against a
   * notification stream that went quiet. Default 60 000.
   */
  notifiedListingTtlMs?: number;
  /** Called when a server sends `notifications/tools/list_changed` (for logs and tests). */
  onToolListChanged?: (server: string) => void;
  /**
   * Transport errors outside any request (a notification stream that failed to reconnect); the
   * request that needs the connection reports its own error. Default: ignored.
   */
  onError?: (server: string, err: Error) => void;
}

/** One connected SDK client: a session of the server. */
interface Session {
  client: Client;
  closed: boolean;
}

/** A cached `tools/list`, valid for the session it was read on. */
interface Listing {
  tools: Tool[];
  session: Session;
  at: number;
  /** The connection's tool-change generation when the listing was requested. */
  generation: number;
}

/** Options of one request: cancellation by the caller (the activity's cancellation signal). */
export interface McpRequestOptions {
  signal?: AbortSignal | undefined;
}

/**
 * The connection to one MCP server (one SDK `Client`), opened lazily on the first request and reused.
 * When the session is gone (HTTP 404 "Session not found" after a server restart or session expiry, a
 * stdio server that exited, a closed transport) it is opened again — before the next request if the
 * loss was seen first, or after a request that failed on it. Only `tools/list` is then sent again; a
 * `tools/call` that failed is reported (retryable) and never re-sent here: its outcome may be unknown,
 * and the caller's ledger decides what a retry does.
 *
 * Methods throw onceflow errors (see `classifyMcpError`): {@link McpUnavailableError} (retryable),
 * `McpRequestRejectedError`, `McpServerConfigError`.
 */
export class McpConnection {
  private current: Promise<Session> | undefined;
  private live: Session | undefined;
  private listing: Listing | undefined;
  private generation = 0;
  private closed = false;

  constructor(
    readonly spec: McpServerSpec,
    private readonly options: McpConnectionsOptions = {},
  ) {}

  /** The server's name. */
  get name(): string {
    return this.spec.name;
  }

  /** The current HTTP session id (`Mcp-Session-Id`), if connected over HTTP; for diagnostics. */
  get sessionId(): string | undefined {
    const transport = this.live && !this.live.closed ? this.live.client.transport : undefined;
    return transport instanceof StreamableHTTPClientTransport ? transport.sessionId : undefined;
  }

  /** True while a session is open. */
  get connected(): boolean {
    return this.live !== undefined && !this.live.closed;
  }

  private get timeoutMs(): number {
    return this.spec.timeoutMs ?? this.options.defaultTimeoutMs ?? DEFAULT_MCP_TIMEOUT_MS;
  }

  private requestOptions(options: McpRequestOptions): RequestOptions {
    return { timeout: this.timeoutMs, ...(options.signal ? { signal: options.signal } : {}) };
  }

  /**
   * Every tool the server lists now (all pages), read from the server and cached for
   * {@link cachedTools}. `tools/list` is safe to repeat, so it is sent again when its session was gone
   * (after reconnecting, once) and after a network failure of the request (a keep-alive socket the
   * server closed, as after a restart): at most {@link LIST_ATTEMPTS} sends in all.
   */
  async listTools(options: McpRequestOptions = {}): Promise<Tool[]> {
    let reconnected = false;
    for (let attempt = 1; ; attempt++) {
      const session = await this.open();
      const generation = this.generation;
      try {
        const tools: Tool[] = [];
        let cursor: string | undefined;
        for (let page = 0; page < MAX_LIST_PAGES; page++) {
          const result = await session.client.listTools(
            cursor === undefined ? undefined : { cursor },
            this.requestOptions(options),
          );
          tools.push(...result.tools);
          cursor = result.nextCursor;
          if (cursor === undefined) break;
        }
        if (cursor !== undefined) throw new Error(`tools/list did not end after ${MAX_LIST_PAGES} pages`);
        this.listing = { tools, session, at: Date.now(), generation };
        return tools;
      } catch (err) {
        const gone = isSessionGone(err);
        if (gone) this.drop(session);
        const again = gone ? !reconnected : isNetworkFailure(err);
        if (gone) reconnected = true;
        if (!again || attempt >= LIST_ATTEMPTS || options.signal?.aborted) {
          throw classifyMcpError(err, { server: this.name }, 'tools/list');
        }
      }
    }
  }

  /**
   * The tool list, from the cache when it is still trusted: read on the current session, with no
   * `tools/list_changed` notification nor transport error since, and younger than
   * `notifiedListingTtlMs` (`unnotifiedListingTtlMs` for a server that does not send that notification).
   * Otherwise listed again. The check is as fresh as the server's notifications are prompt: a change
   * whose notification is still in flight is not yet seen.
   */
  async cachedTools(options: McpRequestOptions = {}): Promise<Tool[]> {
    const session = await this.open();
    const listing = this.listing;
    if (listing && listing.session === session && listing.generation === this.generation) {
      const notifies = session.client.getServerCapabilities()?.tools?.listChanged === true;
      const ttl = notifies
        ? (this.options.notifiedListingTtlMs ?? DEFAULT_NOTIFIED_TTL_MS)
        : (this.options.unnotifiedListingTtlMs ?? 0);
      if (Date.now() - listing.at < ttl) return listing.tools;
    }
    return this.listTools(options);
  }

  /**
   * Sends one `tools/call` and returns the server's result, `isError` results included. Sent at most
   * once: if the session is found gone (or the answer lost) the call fails with a retryable error and
   * the next request opens a new session.
   *
   * Sent as a plain request rather than through `Client.callTool`, whose check of `structuredContent`
   * against the tool's output schema would turn an effect the server has committed into a protocol
   * error: the ledger must record what the server did, malformed or not.
   */
  async callTool(
    params: { name: string; arguments: Record<string, unknown>; _meta?: Record<string, unknown> },
    options: McpRequestOptions = {},
  ): Promise<CallToolResult> {
    const session = await this.open();
    try {
      return await session.client.request(
        { method: 'tools/call', params },
        CallToolResultSchema,
        this.requestOptions(options),
      );
    } catch (err) {
      if (isSessionGone(err)) this.drop(session);
      throw classifyMcpError(err, { server: this.name, tool: params.name }, 'tools/call');
    }
  }

  /** Closes the session, if any (a connect under way included). Later requests connect again. */
  async reset(): Promise<void> {
    const pending = this.current;
    const live = this.live;
    this.current = undefined;
    this.live = undefined;
    const opened = await pending?.catch(() => undefined);
    for (const session of new Set([live, opened])) {
      if (!session) continue;
      session.closed = true;
      await session.client.close().catch(() => undefined);
    }
  }

  /** Closes the session for good: later requests fail with a retryable `McpUnavailableError`. */
  async close(): Promise<void> {
    this.closed = true;
    await this.reset();
  }

  /**
   * The open session, connecting when there is none or it was closed. Callers waiting on a connect
   * that fails get its error; the next request tries again.
   */
  private async open(): Promise<Session> {
    for (;;) {
      if (this.closed) {
        throw classifyMcpError(new Error('the connection was closed'), { server: this.name }, 'initialize');
      }
      const pending = this.current;
      if (!pending) break;
      const session = await pending;
      if (this.current !== pending) continue; // reset meanwhile
      if (!session.closed) return session;
      this.current = undefined;
    }
    const connecting = this.connect();
    this.current = connecting;
    connecting.catch(() => {
      if (this.current === connecting) this.current = undefined;
    });
    return connecting;
  }

  private async connect(): Promise<Session> {
    const client = new Client(this.options.clientInfo ?? { name: 'onceflow', version: '0' });
    const session: Session = { client, closed: false };
    client.onclose = () => this.lost(session);
    client.onerror = (err) => {
      // A broken notification stream may have lost a tools/list_changed: distrust the cached listing.
      if (!session.closed) this.generation++;
      this.options.onError?.(this.name, err);
    };
    client.setNotificationHandler(ToolListChangedNotificationSchema, () => {
      if (session.closed) return;
      this.generation++;
      this.options.onToolListChanged?.(this.name);
    });
    try {
      await client.connect(this.transport(), { timeout: this.timeoutMs });
    } catch (err) {
      session.closed = true;
      await client.close().catch(() => undefined);
      throw classifyMcpError(err, { server: this.name }, 'initialize');
    }
    this.live = session;
    return session;
  }

  private transport(): Transport {
    const spec = this.spec.transport;
    if (spec.type === 'http') {
      return new StreamableHTTPClientTransport(
        new URL(spec.url),
        spec.headers ? { requestInit: { headers: spec.headers } } : undefined,
      );
    }
    return new StdioClientTransport({
      command: spec.command,
      ...(spec.args ? { args: spec.args } : {}),
      ...(spec.env ? { env: spec.env } : {}),
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      stderr: 'inherit',
    });
  }

  /** The transport of `session` closed (the server went away, or we closed it). */
  private lost(session: Session): void {
    session.closed = true;
    if (this.live === session) this.live = undefined;
    if (this.listing?.session === session) this.listing = undefined;
  }

  /** Forgets a session found gone and closes its client; the next request connects again. */
  private drop(session: Session): void {
    this.lost(session);
    void session.client.close().catch(() => undefined);
  }
}

/**
 * The MCP connections of one worker process: one {@link McpConnection} (one SDK `Client`) per server
 * name, opened lazily and reused by every activity. A spec whose content changed for the same name (a
 * redeployed server URL) replaces the old connection. `close()` on worker shutdown.
 */
export class McpConnections {
  private readonly byName = new Map<string, McpConnection>();
  private closed = false;

  constructor(private readonly options: McpConnectionsOptions = {}) {}

  /** The connection for `spec` (not yet connected: the first request connects). */
  connection(spec: McpServerSpec): McpConnection {
    if (this.closed) throw new TypeError('McpConnections: closed');
    const existing = this.byName.get(spec.name);
    if (existing && canonicalJson(existing.spec) === canonicalJson(spec)) return existing;
    if (existing) void existing.close().catch(() => undefined);
    const created = new McpConnection(structuredClone(spec), this.options);
    this.byName.set(spec.name, created);
    return created;
  }

  /** Closes every connection (stdio servers exit). */
  async close(): Promise<void> {
    this.closed = true;
    const all = [...this.byName.values()];
    this.byName.clear();
    await Promise.all(all.map((c) => c.close()));
  }
}
