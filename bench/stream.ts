/**
 * The transport for live model output: onceflow's Postgres stream (`TaskStream.publish()`, one
 * statement that inserts and `pg_notify`s; a watcher woken by the process's `StreamListener` reads
 * what is new) against the design of `@temporalio/workflow-streams` (a workflow holds the log,
 * publishers signal it, watchers long-poll it with an update; `bench/bare/stream-workflows.ts`).
 *
 * A turn is STREAM_DELTAS text deltas (default 50) arriving every STREAM_GAP_MS (default 5 ms), with
 * one watcher. Published two ways: `perDelta`, one write (statement or signal) per delta awaited in
 * order, as a model activity looping over its SDK's stream would (a delta waits while the previous
 * write is in flight); `coalesced`, at most one write in flight carrying what arrived meanwhile
 * (Postgres: onceflow's own `LiveTurnWriter`; Temporal: the same loop sending a batch per signal).
 * Per transport and mode, at 1 and STREAM_CONCURRENT (default 4) turns at once, interleaved round
 * by round (STREAM_ROUNDS, default 8; the order rotates): delivery latency from the delta's arrival
 * (and, per delta, from its write call) to the watcher holding it, time per write, writes and
 * watcher requests per turn, and what the turn leaves in Temporal history (from `fetchHistory()`;
 * nothing for Postgres). Ratios are Temporal / Postgres, medians of per-round ratios.
 *
 * Both sides run on bench defaults: embedded Postgres with fsync off, the dev server on in-memory
 * SQLite, the worker, publisher and watcher in this process. Writes bench/results/stream.json.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { WorkflowUpdateStage, type Client, type WorkflowHandle } from '@temporalio/client';
import proto from '@temporalio/proto';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import type pg from 'pg';
import { LiveTurnWriter } from '../src/activities/live-turn.js';
import type { StreamEventData, StreamEventInput } from '../src/stream/events.js';
import { StreamListener } from '../src/stream/listener.js';
import { TaskStream, type TurnAttempt } from '../src/stream/store.js';
import { finishSignal, pollUpdate, publishSignal, streamWorkflow } from './bare/stream-workflows.js';
import { benchEnv, median, percentiles, writeResult } from './lib/env.js';

const { temporal } = proto;
const DELTAS = Number(process.env.STREAM_DELTAS ?? 50);
const GAP_MS = Number(process.env.STREAM_GAP_MS ?? 5);
const ROUNDS = Number(process.env.STREAM_ROUNDS ?? 8);
const CONCURRENT = Number(process.env.STREAM_CONCURRENT ?? 4);
const TASK_QUEUE = 'bench-stream';
/** A watcher's poll floor when no notification comes, as `followTask`'s. */
const FLOOR_MS = 500;
const TURN_TIMEOUT_MS = 30_000;

const TRANSPORTS = ['postgres', 'temporal'] as const;
const MODES = ['perDelta', 'coalesced'] as const;
type Transport = (typeof TRANSPORTS)[number];
type Mode = (typeof MODES)[number];
interface Slot {
  transport: Transport;
  mode: Mode;
  turns: number;
}
const SLOTS: Slot[] = [1, CONCURRENT].flatMap((turns) =>
  MODES.flatMap((mode) => TRANSPORTS.map((transport) => ({ transport, mode, turns }))),
);
const slotKey = (s: Slot) => `${s.transport}/${s.mode}/${s.turns}`;

/** What one turn's workflow left in history. */
interface HistoryCount {
  events: number;
  bytes: number;
  signals: number;
  updatesAccepted: number;
  updatesCompleted: number;
  workflowTasks: number;
}

/** What one turn measured; times in ms. */
interface TurnSample {
  /** Per delta: arrival at the publisher → the watcher holds it. */
  deliver: number[];
  /** Per delta: its publish call (per delta: its write; coalesced: the non-blocking push) → held. */
  fromCall: number[];
  writeMs: number[];
  watcherRequests: number;
  /** First delta's arrival → last delta delivered. */
  turnMs: number;
  history: HistoryCount | undefined;
}

/** A turn's transport: the watcher already listening, and the publisher's writes. */
interface Channel {
  /** Settles when the watcher holds every delta. */
  watched: Promise<void>;
  /** One statement or one signal carrying `indices`' deltas, in order. */
  write: (indices: number[]) => Promise<void>;
  /** At most one write in flight, carrying every delta that arrived meanwhile. */
  coalesced(): Publisher;
  writeMs: number[];
  watcherRequests(): number;
  /** Ends the turn; its history for Temporal. */
  close(): Promise<HistoryCount | undefined>;
}

interface Publisher {
  push(index: number): void;
  /** Resolves when every pushed delta is written. */
  end(): Promise<void>;
}

interface Context {
  client: Client;
  pool: pg.Pool;
  listener: StreamListener;
}

/** The delta text of index `i`, and the indices in a (possibly concatenated) text. */
const deltaText = (i: number) => ` ${i}`;
const indicesOf = (text: string) => text.split(' ').filter(Boolean).map(Number);

const round1 = (x: number) => Math.round(x * 10) / 10;
const round2 = (x: number) => Math.round(x * 100) / 100;

/**
 * Writes pushed deltas with at most one write in flight, each taking at most `batch` deltas, as
 * `LiveTurnWriter` does (batch 1: one write per delta, in order). `began` gets each write's deltas.
 */
function queued(write: (indices: number[]) => Promise<void>, batch: number, began?: (i: number[]) => void) {
  let pending: number[] = [];
  let inflight: Promise<void> | undefined;
  const drain = async () => {
    while (pending.length > 0) {
      const take = pending.slice(0, batch);
      pending = pending.slice(batch);
      began?.(take);
      await write(take);
    }
    inflight = undefined;
  };
  return {
    push(index: number) {
      pending.push(index);
      inflight ??= drain();
    },
    end: async () => {
      await inflight;
    },
  } satisfies Publisher;
}

/** A {@link TaskStream} timing each statement it runs to publish. */
class TimedStream extends TaskStream {
  readonly writeMs: number[] = [];

  override async publish(taskId: string, events: StreamEventInput[], by?: TurnAttempt): Promise<number[]> {
    if (events.length === 0) return [];
    const began = performance.now();
    try {
      return await super.publish(taskId, events, by);
    } finally {
      this.writeMs.push(performance.now() - began);
    }
  }
}

/** A task's stream in Postgres, its watcher woken by the process's listener (as `followTask`'s). */
async function openPostgres(ctx: Context, onText: (text: string) => void, done: () => boolean) {
  const taskId = `stream-${randomUUID()}`;
  const by = { turn: `${taskId}/model-1`, attempt: 1 };
  const stream = new TimedStream(ctx.pool);
  let dirty = true;
  let wake: (() => void) | undefined;
  let reads = 0;
  const unwatch = await ctx.listener.watch(taskId, () => {
    dirty = true;
    wake?.();
  });
  const nap = () =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, FLOOR_MS);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  const watched = (async () => {
    let last = 0;
    try {
      while (!done()) {
        // The flag, not only the wake-up, carries a notification that came during a read.
        if (!dirty) await nap();
        wake = undefined;
        dirty = false;
        for (;;) {
          reads++;
          const events = await stream.read(taskId, last);
          for (const e of events) {
            last = e.id;
            if (e.kind === 'text_delta') onText((e.data as StreamEventData['text_delta']).text);
          }
          if (events.length < 500) break;
        }
      }
    } finally {
      unwatch();
    }
  })();
  const textDelta = (i: number): StreamEventInput<'text_delta'> => ({
    kind: 'text_delta',
    data: { turn: 1, attempt: 1, block: 0, text: deltaText(i) },
  });
  return {
    watched,
    write: async (indices) => {
      await stream.publish(taskId, indices.map(textDelta), by);
    },
    coalesced: () => {
      const writer = new LiveTurnWriter(stream, { taskId, ...by }, { turn: 1 }, (err) => {
        throw err;
      });
      return { push: (i) => writer.text(0, deltaText(i)), end: () => writer.end([]) };
    },
    writeMs: stream.writeMs,
    watcherRequests: () => reads,
    close: () => Promise.resolve(undefined),
  } satisfies Channel;
}

/** A stream workflow, its watcher long-polling with the `poll` update (accepted before publishing). */
async function openTemporal(ctx: Context, onText: (text: string) => void, done: () => boolean) {
  const handle = await ctx.client.workflow.start(streamWorkflow, {
    taskQueue: TASK_QUEUE,
    workflowId: `stream-${randomUUID()}`,
  });
  let polls = 1;
  const first = await handle.startUpdate(pollUpdate, {
    args: [0],
    waitForStage: WorkflowUpdateStage.ACCEPTED,
  });
  const watched = (async () => {
    let result = await first.result();
    for (;;) {
      for (const item of result.items) onText(item);
      if (done()) return;
      polls++;
      result = await handle.executeUpdate(pollUpdate, { args: [result.offset] });
    }
  })();
  const writeMs: number[] = [];
  const write = async (indices: number[]) => {
    const began = performance.now();
    await handle.signal(publishSignal, indices.map(deltaText));
    writeMs.push(performance.now() - began);
  };
  return {
    watched,
    write,
    coalesced: () => queued(write, Infinity),
    writeMs,
    watcherRequests: () => polls,
    close: async () => {
      await handle.signal(finishSignal);
      await handle.result();
      return countHistory(handle);
    },
  } satisfies Channel;
}

/** Events, encoded size, signals, update events and workflow tasks of a closed workflow's history. */
async function countHistory(handle: WorkflowHandle): Promise<HistoryCount> {
  const history = await handle.fetchHistory();
  const events = history.events ?? [];
  const count = (has: (e: (typeof events)[number]) => unknown) => events.filter((e) => has(e)).length;
  return {
    events: events.length,
    bytes: temporal.api.history.v1.History.encode(history).finish().length,
    signals: count((e) => e.workflowExecutionSignaledEventAttributes),
    updatesAccepted: count((e) => e.workflowExecutionUpdateAcceptedEventAttributes),
    updatesCompleted: count((e) => e.workflowExecutionUpdateCompletedEventAttributes),
    workflowTasks: count((e) => e.workflowTaskCompletedEventAttributes),
  };
}

/** Calls `emit(i)` for i < DELTAS, one every GAP_MS from now (late when the event loop is busy). */
async function produce(emit: (i: number) => void): Promise<void> {
  const start = performance.now();
  for (let i = 0; i < DELTAS; i++) {
    const wait = start + i * GAP_MS - performance.now();
    if (wait > 0) await sleep(wait);
    emit(i);
  }
}

function timeout(ms: number, what: string): { promise: Promise<never>; cancel: () => void } {
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not delivered within ${ms} ms`)), ms);
  });
  return { promise, cancel: () => clearTimeout(timer) };
}

/** One turn: a watcher listening, DELTAS deltas published as `mode` says, until all are delivered. */
async function turn(ctx: Context, transport: Transport, mode: Mode): Promise<TurnSample> {
  const arrived: number[] = [];
  const called: number[] = [];
  const delivered: number[] = [];
  let count = 0;
  const onText = (text: string) => {
    const at = performance.now();
    for (const i of indicesOf(text)) {
      if (delivered[i] !== undefined) continue;
      delivered[i] = at;
      count++;
    }
  };
  const done = () => count >= DELTAS;
  const open = transport === 'postgres' ? openPostgres : openTemporal;
  const channel: Channel = await open(ctx, onText, done);
  const publisher =
    mode === 'perDelta'
      ? queued(channel.write, 1, (indices) => indices.forEach((i) => (called[i] = performance.now())))
      : channel.coalesced();
  await produce((i) => {
    arrived[i] = called[i] = performance.now();
    publisher.push(i);
  });
  await publisher.end();
  const limit = timeout(TURN_TIMEOUT_MS, `${transport} ${mode}`);
  await Promise.race([channel.watched, limit.promise]).finally(limit.cancel);
  const history = await channel.close();
  return {
    deliver: delivered.map((at, i) => at - arrived[i]!),
    fromCall: delivered.map((at, i) => at - called[i]!),
    writeMs: channel.writeMs,
    watcherRequests: channel.watcherRequests(),
    turnMs: Math.max(...delivered) - arrived[0]!,
    history,
  };
}

/** Every turn of one slot in one round, pooled. */
interface RoundSample {
  deliver: number[];
  fromCall: number[];
  writeMs: number[];
  turns: TurnSample[];
}

async function runSlot(ctx: Context, slot: Slot): Promise<RoundSample> {
  const turns = await Promise.all(
    Array.from({ length: slot.turns }, () => turn(ctx, slot.transport, slot.mode)),
  );
  return {
    deliver: turns.flatMap((t) => t.deliver),
    fromCall: turns.flatMap((t) => t.fromCall),
    writeMs: turns.flatMap((t) => t.writeMs),
    turns,
  };
}

/** The history of a stream workflow that published nothing: what every turn's count includes. */
async function emptyHistory(client: Client): Promise<HistoryCount> {
  const handle = await client.workflow.start(streamWorkflow, {
    taskQueue: TASK_QUEUE,
    workflowId: `stream-empty-${randomUUID()}`,
  });
  await handle.signal(finishSignal);
  await handle.result();
  return countHistory(handle);
}

/** One row of the table: pooled percentiles and per-turn medians over every round. */
function summarize(slot: Slot, rounds: RoundSample[], empty: HistoryCount) {
  const all = (f: (r: RoundSample) => number[]) => rounds.flatMap(f);
  const perTurn = (f: (t: TurnSample) => number) => median(rounds.flatMap((r) => r.turns.map(f)));
  const deliver = percentiles(all((r) => r.deliver));
  const write = percentiles(all((r) => r.writeMs));
  const histories = rounds.flatMap((r) => r.turns.flatMap((t) => (t.history ? [t.history] : [])));
  const history =
    histories.length === 0
      ? { eventsAdded: 0, kib: 0, signals: 0, updatesAccepted: 0, updatesCompleted: 0, workflowTasks: 0 }
      : {
          eventsAdded: median(histories.map((h) => h.events - empty.events)),
          kib: round1(median(histories.map((h) => h.bytes - empty.bytes)) / 1024),
          signals: median(histories.map((h) => h.signals - empty.signals)),
          updatesAccepted: median(histories.map((h) => h.updatesAccepted)),
          updatesCompleted: median(histories.map((h) => h.updatesCompleted)),
          workflowTasks: median(histories.map((h) => h.workflowTasks - empty.workflowTasks)),
        };
  return {
    ...slot,
    deliverMs: deliver,
    fromCallMs: percentiles(all((r) => r.fromCall)),
    writeMs: write,
    writesPerTurn: perTurn((t) => t.writeMs.length),
    watcherRequestsPerTurn: perTurn((t) => t.watcherRequests),
    turnMs: round1(perTurn((t) => t.turnMs)),
    historyPerTurn: history,
  };
}

/** Temporal / Postgres for one mode and concurrency: medians of the per-round ratios. */
function ratios(mode: Mode, turns: number, byKey: Map<string, RoundSample[]>) {
  const base = byKey.get(slotKey({ transport: 'postgres', mode, turns }))!;
  const other = byKey.get(slotKey({ transport: 'temporal', mode, turns }))!;
  const ratio = (f: (r: RoundSample) => number) =>
    round2(median(base.map((r, i) => f(other[i]!) / Math.max(f(r), 0.01))));
  const p = (xs: number[]) => percentiles(xs);
  return {
    mode,
    turns,
    deliverP50: ratio((r) => p(r.deliver).p50),
    deliverP99: ratio((r) => p(r.deliver).p99),
    writeP50: ratio((r) => p(r.writeMs).p50),
    turnMs: ratio((r) => median(r.turns.map((t) => t.turnMs))),
  };
}

type Row = ReturnType<typeof summarize>;

function printTable(rows: Row[], ratioRows: ReturnType<typeof ratios>[]): void {
  console.log(
    `turn: ${DELTAS} deltas every ${GAP_MS} ms, one watcher; ${ROUNDS} rounds; latencies pooled, per-turn figures medians`,
  );
  console.log(
    'transport publish   turns  deliver p50   p99  call→have p50  write p50   p99  writes  watcher reqs  turn ms  history events  KiB',
  );
  for (const r of rows)
    console.log(
      [
        r.transport.padEnd(9),
        r.mode.padEnd(9),
        String(r.turns).padStart(5),
        r.deliverMs.p50.toFixed(1).padStart(12),
        r.deliverMs.p99.toFixed(1).padStart(5),
        r.fromCallMs.p50.toFixed(1).padStart(15),
        r.writeMs.p50.toFixed(1).padStart(10),
        r.writeMs.p99.toFixed(1).padStart(5),
        String(r.writesPerTurn).padStart(7),
        String(r.watcherRequestsPerTurn).padStart(13),
        r.turnMs.toFixed(0).padStart(8),
        String(r.historyPerTurn.eventsAdded).padStart(15),
        r.historyPerTurn.kib.toFixed(1).padStart(4),
      ].join(' '),
    );
  console.log('temporal / postgres (median of per-round ratios):');
  for (const q of ratioRows)
    console.log(
      `  ${q.mode.padEnd(9)} ${q.turns} turn(s): deliver p50 ×${q.deliverP50}, p99 ×${q.deliverP99}, write p50 ×${q.writeP50}, turn ×${q.turnMs}`,
    );
  for (const r of rows.filter((x) => x.transport === 'temporal')) {
    const h = r.historyPerTurn;
    console.log(
      `  history per ${r.mode} turn (${r.turns} at once): ${h.signals} signals, ${h.updatesAccepted} updates accepted, ${h.updatesCompleted} completed, ${h.workflowTasks} workflow tasks, ${h.eventsAdded} events, ${h.kib} KiB; Postgres: 0`,
    );
  }
}

export async function run(): Promise<void> {
  const env = await benchEnv();
  const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error: console.error };
  const { code } = await bundleWorkflowCode({
    workflowsPath: new URL('./bare/stream-workflows.ts', import.meta.url).pathname,
    logger: quiet,
  });
  const worker = await Worker.create({
    connection: env.native,
    namespace: env.stack.namespace,
    taskQueue: TASK_QUEUE,
    workflowBundle: { code },
  });
  const listener = new StreamListener(env.pool);
  const ctx: Context = { client: env.client, pool: env.pool, listener };
  const byKey = new Map<string, RoundSample[]>(SLOTS.map((s) => [slotKey(s), []]));
  let empty: HistoryCount | undefined;
  const began = performance.now();
  try {
    await worker.runUntil(async () => {
      empty = await emptyHistory(env.client);
      for (const slot of SLOTS) await runSlot(ctx, slot); // warm-up, not recorded
      for (let round = 0; round < ROUNDS; round++) {
        // Rotate the order so drift on a shared machine hits every slot alike.
        const order = SLOTS.map((_, i) => SLOTS[(i + round) % SLOTS.length]!);
        for (const slot of order) byKey.get(slotKey(slot))!.push(await runSlot(ctx, slot));
      }
    });
  } finally {
    await listener.close();
    await env.close();
  }
  const rows = SLOTS.map((s) => summarize(s, byKey.get(slotKey(s))!, empty!));
  const ratioRows = [1, CONCURRENT].flatMap((turns) => MODES.map((mode) => ratios(mode, turns, byKey)));
  printTable(rows, ratioRows);
  writeResult('stream', {
    command: 'npm run bench -- stream',
    deltas: DELTAS,
    gapMs: GAP_MS,
    rounds: ROUNDS,
    concurrent: CONCURRENT,
    wallSeconds: Math.round((performance.now() - began) / 1000),
    emptyWorkflowHistory: empty,
    rows,
    ratiosTemporalOverPostgres: ratioRows,
  });
}

if (import.meta.url === `file://${process.argv[1]}`) await run();
