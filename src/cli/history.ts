import { randomUUID } from 'node:crypto';
import { resolve } from 'node:path';
import type { Client } from '@temporalio/client';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { InvalidArgumentError, type Command } from 'commander';
import { resolveCodec, type AesGcmCodec } from '../codec/aes-gcm.js';
import { encryptedKeyIds, missingKeyProblem } from '../codec/history-keys.js';
import { Ledger } from '../idempotency/ledger.js';
import { beforeFirstActivity } from '../reset-point.js';
import { DEFAULT_WORKFLOWS } from '../dev/app.js';
import { sourceBundlerOptions } from '../dev/source-entries.js';
import { errorLine, withContext } from './context.js';

const quiet = { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} };

/** Runs `replay` covers unless `--limit` says otherwise. */
const DEFAULT_REPLAY_LIMIT = 20;

function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('a positive integer');
  return n;
}

/** A visibility query string literal. */
const quote = (value: string) => `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

/** One run of a workflow: replay fetches its history by both IDs, never "the latest run of the ID". */
interface RunRef {
  workflowId: string;
  runId: string;
}

/** What `replay` prints per run. */
interface ReplayOutcome extends RunRef {
  ok: boolean;
  error?: string;
}

/** The newest `limit` runs matching `query` (the list pages through visibility as it goes). */
async function listRuns(
  client: Client,
  query: string,
  limit: number,
): Promise<{ runs: RunRef[]; truncated: boolean }> {
  const runs: RunRef[] = [];
  for await (const { workflowId, runId } of client.workflow.list({
    query,
    pageSize: Math.min(limit + 1, 1000),
  })) {
    // One past the limit tells the user there is more, without listing everything.
    if (runs.length === limit) return { runs, truncated: true };
    runs.push({ workflowId, runId });
  }
  return { runs, truncated: false };
}

/**
 * Replays each run's history with one replay worker and the payload codec (histories written by
 * `npm start` are encrypted; an older key decrypts them as long as it is still configured). A run whose
 * keys are not configured, or whose history cannot be fetched, is reported on its own line; the rest
 * still replay.
 */
async function replayRuns(
  client: Client,
  runs: RunRef[],
  options: { workflowsPath: string; codec: AesGcmCodec | undefined },
): Promise<ReplayOutcome[]> {
  if (runs.length === 0) return [];
  const outcomes: ReplayOutcome[] = [];
  // Results come back in the order histories go in, one at a time: this queue pairs them with runs.
  const replaying: RunRef[] = [];
  async function* histories() {
    for (const run of runs) {
      let history;
      try {
        history = await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory();
      } catch (err) {
        outcomes.push({ ...run, ok: false, error: errorLine(err) });
        continue;
      }
      const problem = missingKeyProblem(encryptedKeyIds(history.events), options.codec?.keyIds);
      if (problem) {
        outcomes.push({ ...run, ok: false, error: problem });
        continue;
      }
      replaying.push(run);
      yield { workflowId: run.workflowId, history };
    }
  }
  const { code } = await bundleWorkflowCode({
    workflowsPath: options.workflowsPath,
    logger: quiet,
    ...sourceBundlerOptions(),
  });
  const replays = Worker.runReplayHistories(
    {
      workflowBundle: { code },
      ...(options.codec ? { dataConverter: { payloadCodecs: [options.codec] } } : {}),
    },
    histories(),
  );
  for await (const result of replays) {
    const run = replaying.shift() ?? { workflowId: result.workflowId, runId: result.runId };
    outcomes.push(result.error ? { ...run, ok: false, error: result.error.message } : { ...run, ok: true });
  }
  return outcomes;
}

/** `replay`, `reset`, `ledger`. */
export function registerHistoryCommands(program: Command): void {
  program
    .command('replay')
    .description(
      'replay runs against the current workflow code (every run of a task, or recent runs): OK or the determinism violation',
    )
    .argument('[id]', 'task (workflow) ID: each of its runs (resets, continue-as-new)')
    .option('--all', 'replay the most recent onceflow runs (each run, by workflow ID and run ID)')
    .option(
      '--query <query>',
      'narrow the runs with a visibility query, e.g. "OnceflowCustomer = \'cust_42\'"',
    )
    .option('--limit <n>', 'replay at most n runs, newest first', positiveInt, DEFAULT_REPLAY_LIMIT)
    .option(
      '--workflows <path>',
      "your workflows file, as your worker bundles it (default: this repository's order example)",
      DEFAULT_WORKFLOWS,
    )
    .option('--json', 'print JSON')
    .action(
      async (
        id: string | undefined,
        opts: { all?: boolean; query?: string; limit: number; workflows: string; json?: boolean },
      ) => {
        await withContext({ json: Boolean(opts.json) }, async (ctx) => {
          if (!id && !opts.all) throw new Error('give a task ID or --all');
          const client = await ctx.client();
          const query = [id ? `WorkflowId = ${quote(id)}` : 'OnceflowKind IS NOT NULL', opts.query]
            .filter(Boolean)
            .map((q) => `(${q})`)
            .join(' AND ');
          const { runs, truncated } = await listRuns(client, query, opts.limit);
          // Visibility may not list a run yet (or ever, on a server without it): fall back to the latest.
          if (runs.length === 0 && id)
            runs.push({ workflowId: id, runId: (await client.workflow.getHandle(id).describe()).runId });
          const results = await replayRuns(client, runs, {
            workflowsPath: resolve(opts.workflows),
            codec: resolveCodec(ctx.config.dataDir),
          });
          const lines = results.map(
            (r) => `${r.ok ? 'OK  ' : 'FAIL'} ${r.workflowId} ${r.runId}${r.error ? `: ${r.error}` : ''}`,
          );
          if (truncated)
            lines.push(`(more runs match; only the ${opts.limit} newest were replayed: raise --limit)`);
          ctx.print(lines.join('\n'), truncated ? { results, truncated } : { results });
          return results.every((r) => r.ok);
        });
      },
    );

  program
    .command('reset')
    .description('reset a session to a point and let it continue; the ledger keeps effects single')
    .argument('<id>', 'task (workflow) ID')
    .requiredOption(
      '--to <point>',
      'before:<activity type> (e.g. before:chargePayment) | first-workflow-task | last-workflow-task | <event id>',
    )
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { to: string; json?: boolean }) => {
      await withContext({ json: Boolean(opts.json) }, async (ctx) => {
        const client = await ctx.client();
        const handle = client.workflow.getHandle(id);
        const { runId } = await handle.describe();
        const events = (await handle.fetchHistory()).events ?? [];
        const completed = events.filter((e) => e.workflowTaskCompletedEventAttributes);
        let point: (typeof events)[number] | undefined;
        if (opts.to === 'first-workflow-task') point = completed[0];
        else if (opts.to === 'last-workflow-task') point = completed.at(-1);
        else if (opts.to.startsWith('before:')) {
          const activity = opts.to.slice('before:'.length);
          point = beforeFirstActivity(events, activity);
          if (!point) throw new Error(`task ${id} scheduled no ${activity} activity to reset before`);
        } else if (/^\d+$/.test(opts.to)) {
          point = completed.find((e) => String(e.eventId) === opts.to);
          if (!point) throw new Error(`event ${opts.to} is not a completed workflow task of ${id}`);
        } else throw new Error(`unknown reset point ${opts.to}`);
        if (!point?.eventId) throw new Error(`no reset point ${opts.to} in ${id}`);
        const response = await client.workflowService.resetWorkflowExecution({
          namespace: ctx.config.namespace,
          workflowExecution: { workflowId: id, runId },
          reason: `onceflow reset --to ${opts.to}`,
          workflowTaskFinishEventId: point.eventId,
          requestId: randomUUID(),
        });
        ctx.print(`reset ${id} to event ${String(point.eventId)}: new run ${response.runId ?? '?'}`, {
          id,
          eventId: Number(point.eventId),
          runId: response.runId,
        });
      });
    });

  program
    .command('ledger')
    .description(
      'what the idempotency ledger did: executed, replayed (duplicates prevented), conflicts, recoveries',
    )
    .option('--scope <id>', 'one task (workflow ID)')
    .option('--json', 'print JSON')
    .action(async (opts: { scope?: string; json?: boolean }) => {
      await withContext({ json: Boolean(opts.json) }, async (ctx) => {
        const ledger = new Ledger(ctx.pool());
        const stats = await ledger.stats(opts.scope ? { scope: opts.scope } : {});
        // Who approved which effect (key and terms): one task's approvals, with --scope.
        const approvals = opts.scope ? await ledger.approvals(opts.scope) : undefined;
        await ledger.close();
        const s = stats as unknown as Record<string, unknown>;
        const human = [
          ...Object.entries(s)
            .filter(([, v]) => typeof v === 'number')
            .map(([k, v]) => `${k.padEnd(22)} ${String(v)}`),
          ...(approvals ?? []).map(
            (a) =>
              `approved ${a.key} (${a.fingerprint}) by ${a.approvedBy ?? 'unnamed'} at ${a.approvedAt.toISOString()}: ${a.reason}`,
          ),
        ].join('\n');
        ctx.print(human, approvals ? { ...stats, approvals } : stats);
      });
    });
}
