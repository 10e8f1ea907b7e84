import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Command, InvalidArgumentError } from 'commander';
import { FAULTS, type FaultName } from './plan.js';
import { chaosPassed, runChaos, type ChaosReport } from './run.js';

function int(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('expected a non-negative integer');
  return n;
}

function faults(value: string): FaultName[] {
  const names = value.split(',').map((s) => s.trim());
  const unknown = names.filter((n) => !(FAULTS as readonly string[]).includes(n));
  if (unknown.length)
    throw new InvalidArgumentError(`unknown fault(s) ${unknown.join(', ')}; known: ${FAULTS.join(', ')}`);
  return names as FaultName[];
}

/** The table a person reads; the last line is the JSON a script reads. */
export function printReport(report: ChaosReport, write: (line: string) => void): void {
  const rows: [string, string][] = [
    ['runs', String(report.runs)],
    ['seed', String(report.seed)],
    ['payloads', report.encrypted ? 'encrypted (AES-256-GCM)' : 'plaintext'],
    ...Object.entries(report.faults)
      .sort()
      .map(([k, v]): [string, string] => [`faults injected: ${k}`, String(v)]),
    ...Object.entries(report.states)
      .sort()
      .map(([k, v]): [string, string] => [`tasks ${k}`, String(v)]),
    ['effects observed / distinct', `${report.effectsObserved} / ${report.effectsDistinct}`],
    ['duplicates', String(report.duplicates)],
    ['lost compensations', String(report.lostCompensations)],
    ['missing effects', String(report.missingEffects)],
    ['status disagreements', String(report.statusDisagreements)],
    ['tasks for a person', String(report.needsAttention)],
    ['claims stuck in progress', String(report.stuckClaims)],
    ['task latency p50 / p99', `${report.p50LatencyMs} ms / ${report.p99LatencyMs} ms`],
  ];
  const width = Math.max(...rows.map(([k]) => k.length));
  for (const [k, v] of rows) write(`${k.padEnd(width)}  ${v}`);
  write('latency by planned fault (tasks, p50 / p99):');
  const byFault = Object.entries(report.latencyByFault).sort(([a], [b]) => a.localeCompare(b));
  for (const [name, l] of byFault)
    write(`  ${name.padEnd(15)} ${String(l.tasks).padStart(4)}  ${l.p50Ms} ms / ${l.p99Ms} ms`);
  for (const f of report.failing) write(`problem ${f.workflowId}: ${f.problems.join('; ')}`);
}

const program = new Command()
  .name('chaos')
  .description('drive tasks through real workers while injecting faults, then audit downstream truth')
  .option('--runs <n>', 'tasks to run', int, 50)
  .option('--seed <n>', 'seed of the fault plan', int, 1)
  .option('--faults <list>', `comma-separated subset of: ${FAULTS.join(',')}`, faults, [...FAULTS])
  .option('--workers <n>', 'worker processes', int, 2)
  .option('--concurrency <n>', 'tasks in flight at once', int, 8)
  .option('--timeout <ms>', 'per task', int, 120_000)
  .option('--plaintext', 'run without payload encryption (default: encrypted, as npm start runs)')
  .action(
    async (opts: {
      runs: number;
      seed: number;
      faults: FaultName[];
      workers: number;
      concurrency: number;
      timeout: number;
      plaintext?: boolean;
    }) => {
      Runtime.install({ logger: new DefaultLogger('ERROR') });
      const began = Date.now();
      const report = await runChaos({
        runs: opts.runs,
        seed: opts.seed,
        faults: opts.faults,
        workers: opts.workers,
        concurrency: opts.concurrency,
        timeoutMs: opts.timeout,
        encrypt: !opts.plaintext,
        log: (line) => process.stderr.write(`chaos: ${line}\n`),
      });
      printReport(report, (line) => process.stdout.write(`${line}\n`));
      process.stdout.write(`wall time ${((Date.now() - began) / 1000).toFixed(1)} s\n`);
      const { failing: _failing, ...summary } = report;
      process.stdout.write(`${JSON.stringify(summary)}\n`);
      if (!chaosPassed(report)) {
        process.stderr.write(
          `chaos: FAILED. Replay this plan with: npm run chaos -- --runs ${opts.runs} --seed ${opts.seed} --faults ${opts.faults.join(',')}\n`,
        );
        process.exitCode = 1;
      }
    },
  );

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`chaos: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
