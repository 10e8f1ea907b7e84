/**
 * What onceflow's exactly-once wrapper costs per MCP tool call: `callMcpTool` with an intent (the
 * ledger claim, the `tools/call` carrying the key in `_meta`, the completion) against the same
 * `tools/call` sent through the connection with a fresh intent key and no ledger, so the sandbox
 * ticket desk (Streamable HTTP on loopback) does the same keyed work on its side in both.
 *
 * Variants, MCP_ROUNDS calls each (default 300) after MCP_WARMUP rounds (default 30), one call per
 * variant per round, the order rotated round by round so drift hits all alike, sequentially:
 * - `baseline`: `connection(spec).callTool()` of `create_ticket`, fresh ticket_ref and intent key;
 * - `keyed`: `callMcpTool()` with a fresh intent, as an activity's first attempt runs it (the ledger
 *   claims first: INSERT, call, UPDATE);
 * - `keyedReadFirst`: the same outside an activity, or on a retry (SELECT first, then INSERT, call, UPDATE);
 * - `replay`: `callMcpTool()` with an intent already executed, as a retry runs it (one SELECT, no call);
 * - `replayClaimFirst`: the same on a first attempt (the claim finds the row, then the read);
 * - `read`: `get_ticket` through `callMcpTool()` without an intent, for scale.
 * Ratios are p50 / baseline p50. Postgres: `DATABASE_URL`, or an embedded one with default durability
 * (fsync and synchronous_commit on; `MCP_PG_FAST=1` turns them off, as the Temporal benches run).
 * Writes bench/results/mcp.json.
 */
import { randomUUID } from 'node:crypto';
import { MockActivityEnvironment } from '@temporalio/testing';
import { migrate } from '../src/db/migrate.js';
import { createPool } from '../src/db/pool.js';
import { Ledger } from '../src/idempotency/ledger.js';
import { callMcpTool, type McpCallResult } from '../src/mcp/call.js';
import { McpConnections } from '../src/mcp/connections.js';
import { INTENT_KEY_META } from '../src/mcp/meta.js';
import type { McpServerSpec } from '../src/mcp/server-spec.js';
import { startSandbox } from '../src/sandbox/index.js';
import type { EffectSpec, Intent } from '../src/tools/effects.js';
import { effectIntent } from '../src/tools/intent.js';
import { median, writeResult } from './lib/env.js';
import { benchDatabase, durabilitySettings } from './lib/postgres.js';

const ROUNDS = Number(process.env.MCP_ROUNDS ?? 300);
const WARMUP = Number(process.env.MCP_WARMUP ?? 30);
const FAST = process.env.MCP_PG_FAST === '1';

/** How the MCP tests key create_ticket: the caller's reference names the ticket; the customer is a term. */
const CREATE_TICKET: EffectSpec = {
  tool: 'create_ticket',
  identityFields: ['ticket_ref'],
  stableFields: ['customer_id'],
  recovery: 'resume',
};

const VARIANTS = ['baseline', 'keyed', 'keyedReadFirst', 'replay', 'replayClaimFirst', 'read'] as const;
type Variant = (typeof VARIANTS)[number];
const DESCRIBE: Record<Variant, string> = {
  baseline: 'connection.callTool create_ticket, fresh intent key in _meta, no ledger',
  keyed: 'callMcpTool, fresh intent, first attempt (claim first): INSERT + call + UPDATE',
  keyedReadFirst:
    'callMcpTool, fresh intent, outside an activity or a retry: SELECT + INSERT + call + UPDATE',
  replay: 'callMcpTool, executed intent, a retry: one SELECT, no call',
  replayClaimFirst: 'callMcpTool, executed intent, a first attempt: INSERT (conflict) + SELECT, no call',
  read: 'callMcpTool get_ticket, no intent (plain call)',
};

const noop = () => undefined;
const quiet = { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: noop };

interface Latency {
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  meanMs: number;
}

const round2 = (x: number) => Math.round(x * 100) / 100;

function latency(samples: number[]): Latency {
  const sorted = [...samples].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  const mean = sorted.reduce((s, x) => s + x, 0) / Math.max(1, sorted.length);
  return { p50Ms: round2(at(0.5)), p95Ms: round2(at(0.95)), p99Ms: round2(at(0.99)), meanMs: round2(mean) };
}

/** Runs `fn` as an activity attempt (effect() reads the attempt number and the lease from it). */
function activityAttempt(attempt: number) {
  const env = new MockActivityEnvironment(
    {
      attempt,
      startToCloseTimeoutMs: 30_000,
      workflowExecution: { workflowId: 'bench-mcp', runId: 'run-1' },
    },
    { logger: quiet },
  );
  return <R>(fn: () => Promise<R>) => env.run<[], R, () => Promise<R>>(fn);
}

function expectOutcome(done: McpCallResult, outcome: McpCallResult['outcome']): void {
  if (done.outcome !== outcome || done.result.isError)
    throw new Error(`expected ${outcome}, got ${done.outcome}: ${done.result.text.slice(0, 200)}`);
}

export async function run(): Promise<void> {
  const began = performance.now();
  const db = await benchDatabase({ fast: FAST });
  const pool = createPool(db.url, 10);
  const ledger = new Ledger(pool);
  const connections = new McpConnections({ clientInfo: { name: 'onceflow-bench', version: '0' } });
  const scope = `bench-mcp-${randomUUID()}`;
  let stopSandbox: (() => Promise<void>) | undefined;
  try {
    await migrate(pool);
    const sandbox = await startSandbox({ pool });
    stopSandbox = sandbox.stop;
    const spec: McpServerSpec = {
      name: 'desk',
      transport: { type: 'http', url: sandbox.addresses.mcp.url },
      timeoutMs: 10_000,
    };
    const conn = connections.connection(spec);
    const firstAttempt = activityAttempt(1);
    const retry = activityAttempt(2);

    let n = 0;
    const newTicket = () => ({
      ticket_ref: `ref_${scope}_${++n}`,
      customer_id: `cust_${n % 50}`,
      subject: 'Parcel late',
      body: 'Order 7 has not arrived',
    });
    const executed: { args: Record<string, unknown>; intent: Intent }[] = [];
    const ticketIds: string[] = [];
    const pick = <T>(list: T[]) => list[Math.floor(Math.random() * list.length)]!;
    const keyedCall = async (attempt: typeof firstAttempt | undefined) => {
      const args = newTicket();
      const intent = effectIntent(scope, CREATE_TICKET, args);
      const call = () =>
        callMcpTool(connections, spec, { tool: 'create_ticket', arguments: args, intent }, { ledger });
      const done = attempt ? await attempt(call) : await call();
      expectOutcome(done, 'executed');
      executed.push({ args, intent });
      return done;
    };
    const replayCall = async (attempt: typeof firstAttempt) => {
      const { args, intent } = pick(executed);
      const done = await attempt(() =>
        callMcpTool(connections, spec, { tool: 'create_ticket', arguments: args, intent }, { ledger }),
      );
      expectOutcome(done, 'replayed');
    };

    const ops: Record<Variant, () => Promise<void>> = {
      baseline: async () => {
        const args = newTicket();
        // The key the intent would carry, so the desk records and checks it exactly as for `keyed`.
        const { key } = effectIntent(scope, CREATE_TICKET, args);
        const raw = await conn.callTool({
          name: 'create_ticket',
          arguments: args,
          _meta: { [INTENT_KEY_META]: key },
        });
        if (raw.isError) throw new Error(`baseline create_ticket refused: ${JSON.stringify(raw.content)}`);
      },
      keyed: async () => {
        const done = await keyedCall(firstAttempt);
        const ticket = (done.result.structuredContent as { ticket?: { id?: string } } | undefined)?.ticket;
        if (ticket?.id) ticketIds.push(ticket.id);
      },
      keyedReadFirst: async () => {
        await keyedCall(undefined);
      },
      replay: () => replayCall(retry),
      replayClaimFirst: () => replayCall(firstAttempt),
      read: async () => {
        const done = await callMcpTool(connections, spec, {
          tool: 'get_ticket',
          arguments: { ticket_id: pick(ticketIds) },
        });
        expectOutcome(done, 'unkeyed');
      },
    };

    const samples = Object.fromEntries(VARIANTS.map((v) => [v, [] as number[]])) as Record<Variant, number[]>;
    /** Per round, keyed minus baseline: the added time of one keyed call, paired against drift. */
    const addedPaired: number[] = [];
    // `keyed` first in the warm-up order, so replay and read have something to answer from.
    const warmOrder: Variant[] = ['keyed', ...VARIANTS.filter((v) => v !== 'keyed')];
    for (let round = 0; round < WARMUP; round++) for (const v of warmOrder) await ops[v]();
    for (let round = 0; round < ROUNDS; round++) {
      const order = VARIANTS.map((_, i) => VARIANTS[(i + round) % VARIANTS.length]!);
      const took = {} as Record<Variant, number>;
      for (const v of order) {
        const t = performance.now();
        await ops[v]();
        took[v] = performance.now() - t;
        samples[v].push(took[v]);
      }
      addedPaired.push(took.keyed - took.baseline);
    }

    const stats = Object.fromEntries(VARIANTS.map((v) => [v, latency(samples[v])])) as Record<
      Variant,
      Latency
    >;
    const base = stats.baseline.p50Ms;
    const ratio = (v: Variant) => round2(stats[v].p50Ms / base);
    const rows = VARIANTS.map((variant) => ({
      variant,
      calls: samples[variant].length,
      ...stats[variant],
      ratioVsBaseline: ratio(variant),
      description: DESCRIBE[variant],
    }));
    const result = {
      command: 'npm run bench -- mcp',
      rounds: ROUNDS,
      warmup: WARMUP,
      transport: 'Streamable HTTP, loopback, one session, sequential calls',
      database: { source: db.source, ...(await durabilitySettings(pool)) },
      rows,
      keyedOverBaselineP50: ratio('keyed'),
      keyedReadFirstOverBaselineP50: ratio('keyedReadFirst'),
      replayOverBaselineP50: ratio('replay'),
      replayClaimFirstOverBaselineP50: ratio('replayClaimFirst'),
      keyedAddedMsP50: round2(stats.keyed.p50Ms - base),
      keyedAddedMsPairedMedian: round2(median(addedPaired)),
      wallSeconds: Math.round((performance.now() - began) / 1000),
    };

    console.log(
      `${result.database.source}: ${result.database.version ?? '?'}, fsync=${result.database.fsync} synchronous_commit=${result.database.synchronousCommit}`,
    );
    console.log(`${ROUNDS} calls per variant after ${WARMUP} warm-up rounds, interleaved, sequential\n`);
    console.log('variant              p50 ms   p95 ms   p99 ms  mean ms   p50 / baseline');
    for (const r of rows)
      console.log(
        `${r.variant.padEnd(18)} ${[r.p50Ms, r.p95Ms, r.p99Ms, r.meanMs].map((x) => x.toFixed(2).padStart(8)).join(' ')}   ${r.ratioVsBaseline.toFixed(2)}`,
      );
    console.log(
      `\nkeyed / baseline (p50): ${result.keyedOverBaselineP50}x (read first: ${result.keyedReadFirstOverBaselineP50}x)`,
    );
    console.log(
      `replay / baseline (p50): ${result.replayOverBaselineP50}x (on a first attempt: ${result.replayClaimFirstOverBaselineP50}x)`,
    );
    console.log(
      `added per keyed call: ${result.keyedAddedMsP50} ms (p50 difference), ${result.keyedAddedMsPairedMedian} ms (median of per-round differences)`,
    );
    writeResult('mcp', result);
    console.log('wrote bench/results/mcp.json');
  } finally {
    await connections.close().catch(() => undefined);
    await ledger.close().catch(() => undefined);
    await pool.query('DELETE FROM idempotency_ledger WHERE scope = $1', [scope]).catch(() => undefined);
    await stopSandbox?.().catch(() => undefined);
    await pool.end();
    await db.stop();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
