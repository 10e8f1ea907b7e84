import { ErrorCode, McpError, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type pg from 'pg';
import type { FaultController, FaultKind } from './faults.js';
import { sleep } from './http.js';
import { claimIntent, completeIntent, fingerprint, releaseIntent } from './mcp-intents.js';
import { logCall, type CallRecord } from './mcp-store.js';
import { changeTickets, readTickets, toolError } from './mcp-tickets.js';
import {
  INTENT_KEY_META,
  REPLAYED_META,
  findTool,
  listedTools,
  parseArguments,
  type TicketTool,
  type ToolVariant,
} from './mcp-tools.js';

/**
 * JSON-RPC error code (implementation-defined server-error range) of a call whose intent key is held
 * by a call still running: transient, retry later — Stripe's 409 `idempotency_key_in_use`.
 */
export const INTENT_IN_PROGRESS_CODE = -32010;

/** Longest intent key accepted, as Stripe's Idempotency-Key. */
const MAX_KEY_LENGTH = 255;

/** The connection a call arrived on. */
export interface CallContext {
  transport: 'http' | 'stdio';
  sessionId?: string | undefined;
  /** Aborted when the caller cancels the request (the SDK client does on its timeout). */
  signal: AbortSignal;
  /**
   * Ends the connection carrying this call's answer without answering (`drop_after_commit`). Without
   * it, the answer is withheld until the caller gives up.
   */
  drop?: (() => void) | undefined;
}

/** Counters of `GET /__admin/stats`. */
export interface DeskStats {
  calls: Record<string, number>;
  effects: number;
  unkeyedEffects: number;
  replays: number;
  conflicts: number;
  toolErrors: number;
}

/** Streaming faults mean nothing to a tool call: they act as their nearest plain kind, as on the model. */
const PLAIN_KIND: Partial<Record<FaultKind, FaultKind>> = {
  slow_stream: 'latency',
  hang_mid_stream: 'hang',
  error_mid_stream: 'fail_before_commit',
};

/** Resolves when any signal aborts. */
function untilAborted(...signals: AbortSignal[]): Promise<void> {
  const signal = AbortSignal.any(signals);
  return new Promise((resolve) => {
    if (signal.aborted) resolve();
    else signal.addEventListener('abort', () => resolve(), { once: true });
  });
}

/**
 * The ticket desk behind the sandbox MCP server, independent of the transport: validates calls, applies
 * faults, honours intent keys like Stripe's Idempotency-Key, and writes tickets and the call log to
 * Postgres. One desk serves every session (HTTP) or the one connection (stdio).
 */
export class TicketDesk {
  readonly stats: DeskStats = {
    calls: {},
    effects: 0,
    unkeyedEffects: 0,
    replays: 0,
    conflicts: 0,
    toolErrors: 0,
  };
  private currentVariant: ToolVariant;
  private readonly listeners = new Set<() => void>();
  private readonly closing = new AbortController();

  constructor(private readonly options: { pool: pg.Pool; faults: FaultController; variant?: ToolVariant }) {
    this.currentVariant = options.variant ?? 'v1';
  }

  /** The tool list served now. */
  get variant(): ToolVariant {
    return this.currentVariant;
  }

  /** Switches the tool list; listeners (each session, to send `tools/list_changed`) hear of a change. */
  setVariant(variant: ToolVariant): void {
    if (variant === this.currentVariant) return;
    this.currentVariant = variant;
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` on each tool list change; returns the unsubscriber. */
  onToolsChanged(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Releases calls held by a `hang` fault (on server stop). */
  close(): void {
    this.closing.abort();
  }

  /** `tools/list`. */
  listTools() {
    return listedTools(this.currentVariant);
  }

  /**
   * `tools/call`. Tool failures (bad arguments, unknown ticket, key conflict) are `isError` results;
   * an unknown tool, an injected failure, an intent key in use and a hang given up are protocol errors
   * (thrown {@link McpError}), and none of them changed anything. Read-only tools ignore a key (as
   * Stripe does on GET) but log it.
   */
  async call(name: string, args: unknown, meta: unknown, ctx: CallContext): Promise<CallToolResult> {
    this.stats.calls[name] = (this.stats.calls[name] ?? 0) + 1;
    const rawKey = (meta as Record<string, unknown> | undefined)?.[INTENT_KEY_META];
    const key = typeof rawKey === 'string' ? rawKey : undefined;
    const record: CallRecord = {
      tool: name,
      arguments: args,
      intentKey: key,
      outcome: 'failed',
      transport: ctx.transport,
      sessionId: ctx.sessionId,
    };
    const { pool, faults } = this.options;
    const tool = findTool(this.currentVariant, name);
    if (!tool) {
      await logCall(pool, record);
      throw new McpError(ErrorCode.InvalidParams, `Unknown tool: ${name}`);
    }
    if (rawKey !== undefined && (!key || key.length > MAX_KEY_LENGTH)) {
      return this.refuse(
        record,
        `_meta["${INTENT_KEY_META}"] must be a string of 1 to ${MAX_KEY_LENGTH} characters`,
      );
    }
    const parsed = parseArguments(tool, args);
    if (!parsed.ok) return this.refuse(record, parsed.message);

    const fault = faults.take({ method: 'tools/call', tool: name, idempotencyKey: key });
    const kind = fault && (PLAIN_KIND[fault.fault] ?? fault.fault);
    record.fault = fault?.fault;
    if (kind === 'latency') await sleep(fault?.latencyMs ?? 0);
    if (kind === 'fail_before_commit') {
      // A JSON-RPC internal error, not an `isError` result: `isError` is an answer meant for the model
      // (bad input, a refusal), while a downstream outage is a failed call to retry; the SDK client
      // raises it as an McpError, as it would a crashed handler.
      await logCall(pool, record);
      throw new McpError(
        ErrorCode.InternalError,
        'ticket desk unavailable (sandbox fault); nothing was done',
      );
    }
    if (kind === 'hang') {
      // No answer until the caller cancels (the SDK client does on its timeout) or the server stops.
      await untilAborted(ctx.signal, this.closing.signal);
      await logCall(pool, { ...record, outcome: 'hung' });
      throw new McpError(ErrorCode.RequestTimeout, 'the caller gave up on a hanging call');
    }

    const result = tool.effect
      ? await this.effect(tool, parsed.value, key, record)
      : await this.read(tool, parsed.value, record);
    if (kind === 'delay_after_commit') await sleep(fault?.latencyMs ?? 0);
    if (kind === 'drop_after_commit') {
      if (ctx.drop) ctx.drop();
      else await untilAborted(ctx.signal, this.closing.signal);
    }
    return result;
  }

  private async refuse(record: CallRecord, message: string): Promise<CallToolResult> {
    this.stats.toolErrors++;
    await logCall(this.options.pool, { ...record, outcome: 'tool_error' });
    return toolError(message);
  }

  private async read(tool: TicketTool, args: Record<string, unknown>, record: CallRecord) {
    const result = await readTickets(this.options.pool, tool, args);
    if (result.isError) this.stats.toolErrors++;
    await logCall(this.options.pool, { ...record, outcome: result.isError ? 'tool_error' : 'read' });
    return result;
  }

  /**
   * Runs an effect tool under its intent key, if any: the ticket change, the call-log row and the
   * key's stored result commit in one transaction, so a replay exists exactly when the effect does.
   */
  private async effect(
    tool: TicketTool,
    args: Record<string, unknown>,
    key: string | undefined,
    record: CallRecord,
  ): Promise<CallToolResult> {
    const { pool } = this.options;
    if (key) {
      const claim = await claimIntent(pool, key, fingerprint(tool.name, args));
      if (claim.kind === 'conflict') {
        this.stats.conflicts++;
        await logCall(pool, { ...record, outcome: 'conflict' });
        return toolError(
          `idempotency key reused with other arguments: intent key "${key}" was first used for another ${tool.name} call (or another tool); use a new key for a different call`,
        );
      }
      if (claim.kind === 'in_progress') {
        await logCall(pool, { ...record, outcome: 'in_progress' });
        throw new McpError(
          INTENT_IN_PROGRESS_CODE,
          `a call with intent key "${key}" is still in progress; retry later`,
          { intentKey: key },
        );
      }
      if (claim.kind === 'replay') {
        this.stats.replays++;
        await logCall(pool, { ...record, outcome: 'replayed' });
        return { ...claim.result, _meta: { [INTENT_KEY_META]: key, [REPLAYED_META]: true } };
      }
    }
    const client = await pool.connect();
    try {
      await client.query('BEGIN');
      const done = await changeTickets(client, tool, args);
      await logCall(client, { ...record, outcome: done.outcome, ticketId: done.ticketId });
      if (key) await completeIntent(client, key, done.result);
      await client.query('COMMIT');
      if (done.outcome === 'effect') {
        this.stats.effects++;
        if (!key) this.stats.unkeyedEffects++;
      }
      return key ? { ...done.result, _meta: { [INTENT_KEY_META]: key } } : done.result;
    } catch (err) {
      await client.query('ROLLBACK').catch(() => undefined);
      if (key) await releaseIntent(pool, key).catch(() => undefined);
      throw err;
    } finally {
      client.release();
    }
  }
}
