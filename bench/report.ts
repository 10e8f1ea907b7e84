/**
 * Writes docs/benchmarks.md (and docs/benchmarks-throughput.svg) from bench/results/*.json: run last
 * by `npm run bench`, or alone to redraw from the latest results.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RESULTS = join(import.meta.dirname, 'results');
const DOCS = join(import.meta.dirname, '..', 'docs');

type Json = Record<string, unknown>;
const load = (name: string): Json | undefined =>
  existsSync(join(RESULTS, `${name}.json`))
    ? (JSON.parse(readFileSync(join(RESULTS, `${name}.json`), 'utf8')) as Json)
    : undefined;

interface E2eLevel {
  system: string;
  concurrency: number;
  tasksPerSec: { median: number; min: number; max: number };
  p50Ms: { median: number };
  p99Ms: { median: number };
}

interface Ratios {
  throughputRatio: number;
  p50LatencyRatio: number;
}
interface E2eTargets {
  sameKind: { throughputRatio: { min: number }; p50LatencyRatio: { max: number } };
  vsRegularBare: { throughputRatio: { min: number }; p50LatencyRatio: { max: number } };
}
interface E2eResult extends Ratios {
  reps?: number;
  /** Absent in results written before the local baseline: the one bare workflow was regular. */
  sameKind?: 'local' | 'regular';
  vsRegularBare?: Ratios;
  targets?: E2eTargets;
  levels: E2eLevel[];
}
/** Issue #16's goals, for results that do not carry their own. */
const E2E_TARGETS: E2eTargets = {
  sameKind: { throughputRatio: { min: 0.85 }, p50LatencyRatio: { max: 1.15 } },
  vsRegularBare: { throughputRatio: { min: 1.5 }, p50LatencyRatio: { max: 0.5 } },
};
const AGENT_P50_TARGET_MS = 300;
/** The three systems of the e2e bench, in table order, with their names in the docs and the chart. */
const E2E_SYSTEMS = [
  { system: 'bareRegular', label: 'bare, regular activities', color: '#999' },
  { system: 'bareLocal', label: 'bare, local activities', color: '#d69e2e' },
  { system: 'onceflow', label: 'onceflow order saga', color: '#2b6cb0' },
] as const;

interface Stat {
  median: number;
  min: number;
  max: number;
}
interface LedgerResult {
  iterations: number;
  concurrency: number;
  database?: { source?: string };
  latencyMs: Record<string, { p50: number; p99: number; mean: number }>;
  firstExecRatioVsInsert: number;
  firstExecClaimFirstRatioVsInsert: number;
  replayRatioVsSelect: number;
  guardedOpsPerSec: number;
  rawInsertOpsPerSec: number;
  targets: {
    firstExecClaimFirstRatioVsInsert?: number;
    firstExecRatioVsInsert?: number;
    replayRatioVsSelect: number;
  };
}
interface AgentResult {
  reps: number;
  levels?: { concurrency: number; sessionsPerSec: number; p50Ms: number; p99Ms: number }[];
  targets?: { p50MsAt1?: { max: number } };
  /** Streamed model turns (the default) against `stream: false`, measured in the same run. */
  streaming?: {
    concurrency: number;
    on: { sessionsPerSec: number; p50Ms: number };
    off: { sessionsPerSec: number; p50Ms: number };
    throughputRatio: number;
    p50LatencyRatio: number;
  }[];
  rows: (Record<'perSec' | 'p50' | 'p99' | 'model' | 'tools' | 'ledger' | 'temporal', Stat> & {
    concurrency: number;
  })[];
}
interface ReplayResult {
  replay200TurnsMs: number;
  longestSingleHistoryTurns: number;
  inlineLongestSingleHistoryTurns: number;
  rows: {
    transcript: string;
    turns: number;
    events: number;
    historyBytes: number;
    medianMs: number;
    minMs: number;
    maxMs: number;
  }[];
}
interface MemoryResult {
  samples?: number;
  rows: {
    cache: string;
    sessions: number;
    rssMiB: number;
    minMiB?: number;
    maxMiB?: number;
    perSessionKiB?: number | null;
  }[];
}
interface DispatchResult {
  rounds: number;
  rows: { kind: string; p50Ms: number; p99Ms: number; ratioVsSequential: number }[];
  dispatchMs: { p50: number; p99: number; samples: number };
}
interface ScaleResult {
  twoOverOne: number;
  rows: { workers: number; tasksPerSecMedian: number; min: number; max: number; p50Ms: number }[];
}

/** A Markdown table: header row, separator, one row per entry. */
const table = (header: string[], rows: (string | number)[][]): string[] => [
  `| ${header.join(' | ')} |`,
  `| ${header.map(() => '---').join(' | ')} |`,
  ...rows.map((r) => `| ${r.join(' | ')} |`),
];
const fix = (n: number, digits: number) => n.toFixed(digits);
const range = (s: Stat, digits: number) =>
  `${s.median.toFixed(digits)} (${s.min.toFixed(digits)}–${s.max.toFixed(digits)})`;
const pct = (s: Stat) => `${(s.median * 100).toFixed(0)}%`;

function chart(levels: E2eLevel[]): string {
  const w = 520;
  const h = 300;
  const pad = 50;
  const conc = [...new Set(levels.map((l) => l.concurrency))].sort((a, b) => a - b);
  const maxY = Math.max(...levels.map((l) => l.tasksPerSec.max)) * 1.1;
  const x = (c: number) => pad + (conc.indexOf(c) / Math.max(1, conc.length - 1)) * (w - 2 * pad);
  const y = (v: number) => h - pad - (v / maxY) * (h - 2 * pad);
  const line = (system: string, color: string) => {
    const pts = levels.filter((l) => l.system === system).sort((a, b) => a.concurrency - b.concurrency);
    return (
      `<polyline fill="none" stroke="${color}" stroke-width="2" points="${pts.map((p) => `${x(p.concurrency)},${y(p.tasksPerSec.median)}`).join(' ')}"/>` +
      pts
        .map(
          (p) => `<circle cx="${x(p.concurrency)}" cy="${y(p.tasksPerSec.median)}" r="3" fill="${color}"/>`,
        )
        .join('')
    );
  };
  const present = E2E_SYSTEMS.filter((s) => levels.some((l) => l.system === s.system));
  const ticks = conc
    .map((c) => `<text x="${x(c)}" y="${h - pad + 18}" text-anchor="middle">${c}</text>`)
    .join('');
  const yTicks = [0, 0.5, 1]
    .map(
      (f) => `<text x="${pad - 8}" y="${y(f * maxY) + 4}" text-anchor="end">${(f * maxY).toFixed(0)}</text>`,
    )
    .join('');
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="${h}" font-family="sans-serif" font-size="12">
<rect width="100%" height="100%" fill="white"/>
<line x1="${pad}" y1="${h - pad}" x2="${w - pad}" y2="${h - pad}" stroke="#333"/><line x1="${pad}" y1="${pad}" x2="${pad}" y2="${h - pad}" stroke="#333"/>
${ticks}${yTicks}
<text x="${w / 2}" y="${h - 10}" text-anchor="middle">concurrency (order sagas in flight)</text>
<text x="14" y="${h / 2}" transform="rotate(-90 14 ${h / 2})" text-anchor="middle">tasks/s (median)</text>
${present.map((s) => line(s.system, s.color)).join('')}
${present.map((s, i) => `<text x="${w - pad - 150}" y="${pad + 16 * i}" fill="${s.color}">${s.label}</text>`).join('')}
</svg>
`;
}

const met = (ok: boolean) => (ok ? 'met' : 'missed');

/** The e2e section: the three systems per concurrency, then both ratio sets against their targets. */
function e2eSection(e2e: E2eResult): string[] {
  // Results from before the local baseline name their one (regular) bare workflow `bare`.
  for (const l of e2e.levels) if (l.system === 'bare') l.system = 'bareRegular';
  const label = (system: string) => E2E_SYSTEMS.find((s) => s.system === system)?.label ?? system;
  const rank = (system: string) => E2E_SYSTEMS.findIndex((s) => s.system === system);
  const levels = [...e2e.levels].sort(
    (a, b) => a.concurrency - b.concurrency || rank(a.system) - rank(b.system),
  );
  const sameKind = e2e.sameKind ?? 'regular';
  const baseline = sameKind === 'local' ? 'bareLocal' : 'bareRegular';
  const t = e2e.targets ?? E2E_TARGETS;
  const ratioRow = (name: string, r: Ratios, target: E2eTargets['sameKind']) => [
    name,
    `**${fix(r.throughputRatio, 2)}** (≥ ${target.throughputRatio.min}, ${met(r.throughputRatio >= target.throughputRatio.min)})`,
    `**${fix(r.p50LatencyRatio, 2)}** (≤ ${target.p50LatencyRatio.max}, ${met(r.p50LatencyRatio <= target.p50LatencyRatio.max)})`,
  ];
  const regular = e2e.vsRegularBare ?? (sameKind === 'regular' ? e2e : undefined);
  return [
    '## End to end: onceflow order saga vs bare workflows',
    '',
    'The same four downstream calls (order row, charge, shipment, email) with no keys, no ledger and no saga, ' +
      'as regular activities (what a Temporal user writes) and as local activities; the three systems run ' +
      `interleaved on one dev server, Postgres and sandbox${e2e.reps ? `, medians of ${e2e.reps} repetitions (min–max)` : ''}. ` +
      `The order saga's effects ran as **${sameKind}** activities${e2e.sameKind ? ' (read from its history)' : ''}, so the same-kind baseline is ${label(baseline)}: ` +
      'that ratio is what exactly-once itself costs.',
    '',
    ...table(
      ['concurrency', 'system', 'tasks/s (min–max)', 'p50 ms', 'p99 ms'],
      levels.map((l) => [
        l.concurrency,
        label(l.system),
        range(l.tasksPerSec, 1),
        fix(l.p50Ms.median, 0),
        fix(l.p99Ms.median, 0),
      ]),
    ),
    '',
    ...table(
      ['onceflow against', 'throughput ratio at 32 (target)', 'p50 latency ratio at 1 (target)'],
      [
        ratioRow(`${label(baseline)} (same kind)`, e2e, t.sameKind),
        ...(regular ? [ratioRow(label('bareRegular'), regular, t.vsRegularBare)] : []),
      ],
    ),
    '',
    '![throughput against concurrency](benchmarks-throughput.svg)',
    '',
  ];
}

/** Temporal's own dispatch cost (bench/dispatch.ts), the floor under every activity kind above. */
function dispatchSection(dispatch: DispatchResult): string[] {
  return [
    "## Dispatch: Temporal's own cost with no work",
    '',
    `No-op workflows and activities on one dev server and worker at concurrency 1, ${dispatch.rounds} interleaved rounds; ` +
      'ratios against four sequential no-op activities measured in the same run.',
    '',
    ...table(
      ['kind', 'p50 ms', 'p99 ms', 'p50 / four sequential'],
      dispatch.rows.map((r) => [r.kind, fix(r.p50Ms, 1), fix(r.p99Ms, 1), fix(r.ratioVsSequential, 2)]),
    ),
    '',
    `Server dispatch (task scheduled → started, four sequential): p50 ${fix(dispatch.dispatchMs.p50, 1)} ms, ` +
      `p99 ${fix(dispatch.dispatchMs.p99, 1)} ms over ${dispatch.dispatchMs.samples} dispatches.`,
    '',
  ];
}

interface StreamRow {
  transport: string;
  mode: string;
  turns: number;
  deliverMs: { p50: number; p99: number };
  writeMs: { p50: number; p99: number };
  writesPerTurn: number;
  turnMs: number;
  historyPerTurn: { eventsAdded: number; kib: number };
}
interface StreamResult {
  command?: string;
  deltas: number;
  gapMs: number;
  rounds: number;
  rows: StreamRow[];
}

/** The live-output transport: onceflow's Postgres stream against signals and update long-polls. */
function streamSection(stream: StreamResult): string[] {
  return [
    '## Live output transport',
    '',
    `A model turn of ${stream.deltas} text deltas, one every ${stream.gapMs} ms, to one watcher; ` +
      `Postgres (\`task_stream\`, LISTEN/NOTIFY) against the design of \`@temporalio/workflow-streams\` ` +
      `(signals to publish, update long-polls to read); ${stream.rounds} interleaved rounds, medians ` +
      `(\`${stream.command ?? 'npm run bench -- stream'}\`).`,
    '',
    ...table(
      [
        'transport',
        'publish',
        'turns at once',
        'delivery p50 ms',
        'p99 ms',
        'write p50 ms',
        'writes/turn',
        'history events/turn',
      ],
      stream.rows.map((r) => [
        r.transport,
        r.mode,
        r.turns,
        fix(r.deliverMs.p50, 1),
        fix(r.deliverMs.p99, 1),
        fix(r.writeMs.p50, 1),
        r.writesPerTurn,
        r.historyPerTurn.eventsAdded,
      ]),
    ),
    '',
  ];
}

/** The agent figures issue #16 asks for: p50 at 1 against its target, sessions/s at 16. */
interface McpResult {
  command?: string;
  rounds: number;
  database?: { source?: string };
  rows: { variant: string; p50Ms: number; p95Ms: number; ratioVsBaseline: number; description: string }[];
  keyedOverBaselineP50: number;
  replayOverBaselineP50: number;
  keyedAddedMsPairedMedian: number;
}

/** What the exactly-once wrapper costs per MCP tool call (bench/mcp.ts). */
function mcpSection(mcp: McpResult): string[] {
  return [
    '## MCP tool calls: the exactly-once wrapper',
    '',
    `\`create_ticket\` on the sandbox ticket desk (Streamable HTTP on loopback), ${mcp.rounds} sequential calls per variant, ` +
      `interleaved round by round, ${mcp.database?.source ?? 'PostgreSQL'}. The baseline sends the same call with a fresh ` +
      `intent key in \`_meta\` and no ledger, so the desk does the same keyed work (\`${mcp.command ?? 'npm run bench -- mcp'}\`).`,
    '',
    ...table(
      ['variant', 'p50 ms', 'p95 ms', 'p50 / baseline', 'what it does'],
      mcp.rows.map((r) => [
        r.variant,
        fix(r.p50Ms, 2),
        fix(r.p95Ms, 2),
        fix(r.ratioVsBaseline, 2),
        r.description.replaceAll('_meta', '\\_meta'),
      ]),
    ),
    '',
    `A keyed call (first execution) costs ${fix(mcp.keyedOverBaselineP50, 2)}× the baseline at p50, ` +
      `${fix(mcp.keyedAddedMsPairedMedian, 1)} ms more per call (median of per-round differences); ` +
      `a replay answered from the ledger ${fix(mcp.replayOverBaselineP50, 2)}×, without calling the server.`,
    '',
  ];
}

function agentTarget(agent: AgentResult): string[] {
  const levels =
    agent.levels ??
    agent.rows.map((r) => ({
      concurrency: r.concurrency,
      sessionsPerSec: r.perSec.median,
      p50Ms: r.p50.median,
      p99Ms: r.p99.median,
    }));
  const max = agent.targets?.p50MsAt1?.max ?? AGENT_P50_TARGET_MS;
  const at1 = levels.find((l) => l.concurrency === 1);
  const at16 = levels.find((l) => l.concurrency === 16);
  const parts = [
    ...(at1
      ? [
          `p50 at concurrency 1: **${fix(at1.p50Ms, 0)} ms** (target ≤ ${max} ms, ${met(at1.p50Ms <= max)}), ${fix(at1.sessionsPerSec, 2)} sessions/s`,
        ]
      : []),
    ...(at16
      ? [`at concurrency 16: **${fix(at16.sessionsPerSec, 2)} sessions/s**, p50 ${fix(at16.p50Ms, 0)} ms`]
      : []),
  ];
  return parts.length > 0 ? [`${parts.join('; ')}.`, ''] : [];
}

export async function run(): Promise<void> {
  await Promise.resolve();
  const out: string[] = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` from `bench/results/*.json`. Ratios are measured side by side in one run.',
    '',
  ];
  const any = load('e2e') ?? load('ledger') ?? load('agent') ?? load('dispatch');
  const machine = (any?.machine ?? {}) as { cores?: number; memoryGiB?: number; node?: string };
  out.push(
    `Machine: ${machine.cores ?? '?'} cores, ${machine.memoryGiB ?? '?'} GiB, Node ${machine.node ?? process.version}.`,
    '',
  );
  const e2e = load('e2e') as E2eResult | undefined;
  if (e2e) {
    out.push(...e2eSection(e2e));
    mkdirSync(DOCS, { recursive: true });
    writeFileSync(join(DOCS, 'benchmarks-throughput.svg'), chart(e2e.levels));
  }
  const dispatch = load('dispatch') as DispatchResult | undefined;
  if (dispatch) out.push(...dispatchSection(dispatch));
  const ledger = load('ledger') as LedgerResult | undefined;
  if (ledger) {
    const l = ledger.latencyMs;
    out.push(
      '## Ledger: guarded calls vs raw SQL',
      '',
      `${ledger.iterations} operations per kind at concurrency ${ledger.concurrency}, ${ledger.database?.source ?? 'PostgreSQL'}.`,
      '',
      ...table(
        ['operation', 'p50 ms', 'p99 ms', 'mean ms'],
        Object.entries(l).map(([k, v]) => [k, fix(v.p50, 3), fix(v.p99, 3), fix(v.mean, 3)]),
      ),
      '',
      `First execution as effect() runs it (claim first on an activity's first attempt) ` +
        `${ledger.firstExecClaimFirstRatioVsInsert}× a raw INSERT (target ≤ ${ledger.targets.firstExecClaimFirstRatioVsInsert ?? ledger.targets.firstExecRatioVsInsert}; ` +
        `${ledger.firstExecRatioVsInsert}× reading first, as on retries); replay ${ledger.replayRatioVsSelect}× a raw SELECT ` +
        `(target ≤ ${ledger.targets.replayRatioVsSelect}); ${ledger.guardedOpsPerSec} guarded vs ${ledger.rawInsertOpsPerSec} raw ops/s.`,
      '',
    );
  }
  const mcp = load('mcp') as McpResult | undefined;
  if (mcp) out.push(...mcpSection(mcp));
  const agent = load('agent') as AgentResult | undefined;
  if (agent) {
    out.push(
      '## Agent sessions',
      '',
      `Scripted sessions (5 model turns, 5 tool calls); medians of ${agent.reps} repetitions (min–max). Shares of a session's time.`,
      '',
      ...table(
        ['concurrency', 'sessions/s', 'p50 ms', 'p99 ms', 'model', 'tools', 'ledger', 'Temporal/other'],
        agent.rows.map((r) => [
          r.concurrency,
          range(r.perSec, 2),
          range(r.p50, 0),
          range(r.p99, 0),
          pct(r.model),
          pct(r.tools),
          pct(r.ledger),
          pct(r.temporal),
        ]),
      ),
      '',
      ...agentTarget(agent),
      ...(agent.streaming
        ? [
            ...table(
              [
                'concurrency',
                'streamed sessions/s',
                'unstreamed sessions/s',
                'ratio',
                'streamed p50 ms',
                'unstreamed p50 ms',
                'ratio',
              ],
              agent.streaming.map((s) => [
                s.concurrency,
                fix(s.on.sessionsPerSec, 2),
                fix(s.off.sessionsPerSec, 2),
                `${fix(s.throughputRatio, 2)}×`,
                fix(s.on.p50Ms, 0),
                fix(s.off.p50Ms, 0),
                `${fix(s.p50LatencyRatio, 2)}×`,
              ]),
            ),
            '',
          ]
        : []),
    );
  }
  const stream = load('stream') as StreamResult | undefined;
  if (stream) out.push(...streamSection(stream));
  const replay = load('replay') as ReplayResult | undefined;
  if (replay) {
    out.push(
      '## Replay',
      '',
      'Agent session histories (each turn a model call and a lookup) replayed with `Worker.runReplayHistory`; ' +
        'the transcript by reference (default) against inline (the whole transcript in every model call).',
      '',
      ...table(
        ['transcript', 'turns', 'events', 'history KiB', 'replay ms median (min–max)', 'ms per turn'],
        replay.rows.map((r) => [
          r.transcript,
          r.turns,
          r.events,
          fix(r.historyBytes / 1024, 0),
          range({ median: r.medianMs, min: r.minMs, max: r.maxMs }, 0),
          fix(r.medianMs / r.turns, 2),
        ]),
      ),
      '',
      `Longest single history: ${replay.longestSingleHistoryTurns} turns by reference, ${replay.inlineLongestSingleHistoryTurns} inline ` +
        `(Temporal suggests continue-as-new). 200 turns: ${replay.replay200TurnsMs} ms (target < 1000 ms).`,
      '',
    );
  }
  const memory = load('memory') as MemoryResult | undefined;
  if (memory) {
    out.push(
      '## Worker memory with sessions waiting for approval',
      '',
      `RSS of a worker process; median of ${memory.samples ?? 1} readings (min–max).`,
      '',
      ...table(
        ['workflow cache', 'sessions', 'RSS MiB', 'per session KiB'],
        memory.rows.map((r) => [
          r.cache,
          r.sessions,
          `${r.rssMiB}${r.minMiB !== undefined ? ` (${r.minMiB}–${r.maxMiB})` : ''}`,
          r.perSessionKiB ?? '–',
        ]),
      ),
      '',
    );
  }
  const scale = load('scale') as ScaleResult | undefined;
  if (scale) {
    out.push(
      '## Scale: worker processes on one task queue',
      '',
      ...table(
        ['workers', 'tasks/s median (min–max)', 'p50 ms'],
        scale.rows.map((r) => [
          r.workers,
          range({ median: r.tasksPerSecMedian, min: r.min, max: r.max }, 1),
          fix(r.p50Ms, 0),
        ]),
      ),
      '',
      `Two workers / one: ${scale.twoOverOne}×.`,
      '',
    );
  }
  mkdirSync(DOCS, { recursive: true });
  writeFileSync(join(DOCS, 'benchmarks.md'), `${out.join('\n')}\n`);
  console.log('wrote docs/benchmarks.md and docs/benchmarks-throughput.svg');
}
