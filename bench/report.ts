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
      '| system | concurrency | tasks/s (min–max) | p50 ms | p99 ms |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const l of levels) {
      out.push(
        `| ${l.system} | ${l.concurrency} | ${l.tasksPerSec.median.toFixed(1)} (${l.tasksPerSec.min.toFixed(1)}–${l.tasksPerSec.max.toFixed(1)}) | ${l.p50Ms.median.toFixed(0)} | ${l.p99Ms.median.toFixed(0)} |`,
      );
    }
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
  const ledger = load('ledger');
  if (ledger) out.push('## Ledger', '', '```json', JSON.stringify(ledger, null, 2), '```', '');
  for (const name of ['agent', 'replay', 'memory', 'scale']) {
    const r = load(name);
    if (r)
      out.push(
        `## ${name[0]!.toUpperCase()}${name.slice(1)}`,
        '',
        '```json',
        JSON.stringify({ ...r, machine: undefined }, null, 2),
        '```',
        '',
      );
  }
  mkdirSync(DOCS, { recursive: true });
  writeFileSync(join(DOCS, 'benchmarks.md'), `${out.join('\n')}\n`);
  console.log('wrote docs/benchmarks.md and docs/benchmarks-throughput.svg');
}
