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
  targets: { firstExecRatioVsInsert: number; replayRatioVsSelect: number };
}
interface AgentResult {
  reps: number;
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
${line('bare', '#999')}${line('onceflow', '#2b6cb0')}
<text x="${w - pad - 90}" y="${pad}" fill="#2b6cb0">onceflow</text><text x="${w - pad - 90}" y="${pad + 16}" fill="#999">bare baseline</text>
</svg>
`;
}

export async function run(): Promise<void> {
  await Promise.resolve();
  const out: string[] = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` from `bench/results/*.json`. Ratios are measured side by side in one run.',
    '',
  ];
  const any = load('e2e') ?? load('ledger') ?? load('agent');
  const machine = (any?.machine ?? {}) as { cores?: number; memoryGiB?: number; node?: string };
  out.push(
    `Machine: ${machine.cores ?? '?'} cores, ${machine.memoryGiB ?? '?'} GiB, Node ${machine.node ?? process.version}.`,
    '',
  );
  const e2e = load('e2e');
  if (e2e) {
    const levels = e2e.levels as E2eLevel[];
    out.push(
      '## End to end: onceflow order saga vs a bare workflow',
      '',
      ...table(
        ['system', 'concurrency', 'tasks/s (min–max)', 'p50 ms', 'p99 ms'],
        levels.map((l) => [
          l.system,
          l.concurrency,
          range(l.tasksPerSec, 1),
          fix(l.p50Ms.median, 0),
          fix(l.p99Ms.median, 0),
        ]),
      ),
    );
    out.push(
      '',
      `throughputRatio (at 32) **${String(e2e.throughputRatio)}** (target ≥ 0.85); p50LatencyRatio (at 1) **${String(e2e.p50LatencyRatio)}** (target ≤ 1.15).`,
      '',
      '![throughput against concurrency](benchmarks-throughput.svg)',
      '',
    );
    mkdirSync(DOCS, { recursive: true });
    writeFileSync(join(DOCS, 'benchmarks-throughput.svg'), chart(levels));
  }
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
      `First execution ${ledger.firstExecRatioVsInsert}× a raw INSERT (target ≤ ${ledger.targets.firstExecRatioVsInsert}; ` +
        `${ledger.firstExecClaimFirstRatioVsInsert}× with claimFirst); replay ${ledger.replayRatioVsSelect}× a raw SELECT ` +
        `(target ≤ ${ledger.targets.replayRatioVsSelect}); ${ledger.guardedOpsPerSec} guarded vs ${ledger.rawInsertOpsPerSec} raw ops/s.`,
      '',
    );
  }
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
    );
  }
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
