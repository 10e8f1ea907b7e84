import type { Client } from '@temporalio/client';
import type { Command } from 'commander';
import { uiLink } from '../client.js';
import { readFileSync } from 'node:fs';
import { loadTasks } from '../dev/app.js';
import {
  describeTask,
  InvalidTaskRequestError,
  startTask,
  type CreateTask,
  type TaskReceipt,
  type TaskService,
} from '../tasks/index.js';
import { type AgentResult, approveUpdate, denyUpdate, type ToolCallRecord } from '../workflows/index.js';
import { resolveCodec } from '../codec/aes-gcm.js';
import type { StreamEvent } from '../stream/events.js';
import { followTask } from '../stream/follow.js';
import { StreamListener } from '../stream/listener.js';
import { TaskStream } from '../stream/store.js';
import { withContext, type CliContext } from './context.js';

function callLine(c: Pick<ToolCallRecord, 'turn' | 'name' | 'outcome' | 'key' | 'error'>): string {
  return `  turn ${c.turn}  ${c.name.padEnd(16)} ${c.outcome.padEnd(9)} ${c.key ? c.key.slice(0, 14) + '…' : ''}${c.error ? `  (${c.error})` : ''}`;
}

async function service(ctx: CliContext): Promise<TaskService> {
  return {
    client: await ctx.client(),
    pool: ctx.pool(),
    taskQueue: ctx.config.taskQueue,
    uiUrl: ctx.config.temporalUiUrl,
  };
}

interface RunOptions {
  kind?: string;
  input?: string;
  tasks?: string;
  customer?: string;
  scenario?: string;
  id?: string;
  json?: boolean;
}

/** The embedded model's scenario of an agent task that names none: the order agent's demo. */
const DEFAULT_SCENARIO = 'agent-happy-path';

/** `--input`: a JSON object, inline or `@file`. */
function readInput(input: string | undefined): Record<string, unknown> {
  if (input === undefined) return {};
  const text = input.startsWith('@') ? readFileSync(input.slice(1), 'utf8') : input;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new InvalidTaskRequestError(
      `--input: not JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new InvalidTaskRequestError("--input: expected a JSON object of the task kind's fields");
  return value as Record<string, unknown>;
}

async function status(ctx: CliContext, id: string) {
  return describeTask(await service(ctx), id);
}

function isAgentResult(r: unknown): r is AgentResult {
  return typeof r === 'object' && r !== null && 'finalText' in r && 'usage' in r;
}

/** What `run` says before following a task: started, or attached to the one the ID names. */
function opening(receipt: TaskReceipt): string {
  if (!receipt.replayed) return `task ${receipt.workflowId} started`;
  if (receipt.workflowStatus === 'RUNNING')
    return `task ${receipt.workflowId} is already running; following it`;
  return `task ${receipt.workflowId} already ran (${receipt.status}); nothing started`;
}

/**
 * Follows a task's current run: a line per tool call while it runs (at once for a finished one), then
 * the result and the UI link. False when the task did not complete.
 */
async function follow(ctx: CliContext, receipt: TaskReceipt, json: boolean): Promise<boolean> {
  const { workflowId, runId, replayed } = receipt;
  const link = uiLink(
    ctx.config.temporalUiUrl,
    ctx.config.namespace,
    workflowId,
    receipt.currentRunId ?? runId ?? undefined,
  );
  const ids = { workflowId, runId, currentRunId: receipt.currentRunId, replayed, link };
  if (receipt.status === 'expired') {
    const message = `task ${workflowId} ran before (run ${runId ?? 'unknown'}) and Temporal no longer has it; nothing started`;
    ctx.print(message, { ...ids, status: 'expired' });
    return false;
  }
  // No run ID: the handle follows the task to its current run.
  const client = await ctx.client();
  const handle = client.workflow.getHandle(workflowId);
  const result = handle.result();
  result.catch(() => undefined);
  if (!json) {
    process.stderr.write(`${opening(receipt)}\n`);
    await showLive(ctx, client, workflowId);
  }
  try {
    const r = (await result) as unknown;
    if (isAgentResult(r)) {
      ctx.print(`${r.status}: ${r.finalText}\n${r.usage.turns} model turns · ${link}`, { ...ids, ...r });
      return r.status === 'completed';
    }
    // Another kind of workflow (a saga): its result as it is.
    const status = (r as { status?: unknown } | null)?.status;
    ctx.print(`${typeof status === 'string' ? status : 'completed'}: ${JSON.stringify(r)}\n${link}`, {
      ...ids,
      result: r,
    });
    return status === undefined || status === 'completed';
  } catch (err) {
    const message =
      err instanceof Error ? (err.cause instanceof Error ? err.cause.message : err.message) : String(err);
    ctx.print(`failed: ${message}\n${link}`, { ...ids, status: 'failed', error: message });
    return false;
  }
}

/**
 * Prints a task's live events to stderr until its run closes: model text as it is written, a line per
 * tool call and result, approvals waiting, compensation steps. Read from Postgres and Temporal as the
 * API's event stream is, so the same events in the same order.
 */
async function showLive(ctx: CliContext, client: Client, workflowId: string): Promise<void> {
  const pool = ctx.pool();
  const listener = new StreamListener(pool);
  const source = {
    client,
    stream: new TaskStream(pool).withCodec(resolveCodec(ctx.config.dataDir)),
    listener,
    intervalMs: 200,
  };
  const out = process.stderr;
  let midLine = false; // model text printed without a newline yet
  const line = (text: string) => {
    out.write(`${midLine ? '\n' : ''}${text}\n`);
    midLine = false;
  };
  try {
    for await (const event of followTask(source, workflowId)) {
      if (!event) continue;
      switch (event.kind) {
        case 'text_delta': {
          const { text } = (event as StreamEvent<'text_delta'>).data;
          out.write(text);
          midLine = !text.endsWith('\n');
          break;
        }
        case 'text_discarded':
          line(
            `  (turn ${(event as StreamEvent<'text_discarded'>).data.turn} was retried: its text above is replaced)`,
          );
          break;
        case 'tool_result':
          line(callLine((event as StreamEvent<'tool_result'>).data));
          break;
        case 'approval_waiting': {
          const a = (event as StreamEvent<'approval_waiting'>).data;
          line(`  waiting for approval: ${a.summary} (${a.reason}) — onceflow approve ${workflowId}`);
          break;
        }
        case 'compensation': {
          const c = (event as StreamEvent<'compensation'>).data;
          line(`  undo ${c.step.padEnd(16)} ${c.status}${c.error ? `  (${c.error})` : ''}`);
          break;
        }
        default:
          break;
      }
    }
    if (midLine) out.write('\n');
  } finally {
    await listener.close();
  }
}

/** `run`, `status`, `approve`, `deny`, `cancel`. */
export function registerTaskCommands(program: Command): void {
  program
    .command('run')
    .description(
      'start a task and follow it: a line per tool call, then the result and the UI link (an agent task by default)',
    )
    .argument('[prompt]', "what the agent should do (an agent kind's `prompt`)")
    .option('--kind <kind>', 'the task kind to start; default the first agent kind of --tasks')
    .option('--input <json>', "the task's fields as a JSON object, or @file to read them from a file")
    .option(
      '--tasks <module>',
      "a module exporting `tasks` (the task kinds); default this repository's order example",
    )
    .option('--customer <id>', 'the customer the task acts for (agent kinds)')
    .option(
      '--scenario <name>',
      "scripted sandbox scenario of the embedded model (agent kinds); default the input's, else agent-happy-path",
    )
    .option(
      '--id <taskId>',
      'task (workflow) ID and idempotency key: the same ID and request attach to the task (never a second run); another request under it is refused',
    )
    .option('--json', 'print the final result as JSON only')
    .action(async (prompt: string | undefined, opts: RunOptions) => {
      await withContext({ json: Boolean(opts.json) }, async (ctx) => {
        const tasks = await loadTasks(opts.tasks);
        const kind = opts.kind ? tasks.find((k) => k.kind === opts.kind) : tasks.find((k) => k.agent);
        if (!kind) {
          throw new InvalidTaskRequestError(
            `--kind: expected one of ${tasks.map((k) => k.kind).join(', ')}${opts.kind ? `, got ${opts.kind}` : ''}`,
          );
        }
        const input = readInput(opts.input);
        // The flag wins over the input's scenario, which wins over the order agent's default.
        const scenario = opts.scenario ?? input.scenario ?? DEFAULT_SCENARIO;
        const body: CreateTask = {
          ...input,
          kind: kind.kind,
          ...(prompt !== undefined ? { prompt } : {}),
          ...(kind.agent ? { scenario } : {}),
          ...(opts.customer ? { customerId: opts.customer } : {}),
        };
        const receipt = await startTask({ ...(await service(ctx)), tasks }, body, {
          idempotencyKey: opts.id,
          keyName: '--id',
        });
        return follow(ctx, receipt, Boolean(opts.json));
      });
    });

  program
    .command('status')
    .description('status, result, saga state, tool calls with keys, usage and the UI link of a task')
    .argument('<id>', 'task (workflow) ID')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withContext({ json: Boolean(opts.json) }, async (ctx) => {
        const task = await status(ctx, id);
        const lines = [
          `${task.id} (${task.kind}): ${task.status}${task.failure ? ` — ${task.failure}` : ''}`,
          ...(task.saga
            ? [
                `saga: ${task.saga.status}${task.saga.needsAttention.length ? `, needs a person: ${task.saga.needsAttention.map((a) => a.action).join('; ')}` : ''}`,
              ]
            : []),
          ...(task.kind === 'agent' ? (task.toolCalls as ToolCallRecord[]).map(callLine) : []),
          task.link,
        ];
        ctx.print(lines.join('\n'), task);
      });
    });

  for (const [name, approved] of [
    ['approve', true],
    ['deny', false],
  ] as const) {
    program
      .command(name)
      .description(`${name} the call a task is waiting on`)
      .argument('<id>', 'task (workflow) ID')
      .option('--note <text>', 'why')
      .option('--by <who>', 'who decides')
      .option('--key <key>', 'the intent key of the effect decided on: refused when another one waits')
      .option('--json', 'print JSON')
      .action(async (id: string, opts: { note?: string; by?: string; key?: string; json?: boolean }) => {
        await withContext({ json: Boolean(opts.json) }, async (ctx) => {
          const client = await ctx.client();
          const args = {
            ...(opts.note ? { note: opts.note } : {}),
            ...(opts.by ? { by: opts.by } : {}),
            ...(opts.key ? { key: opts.key } : {}),
          };
          const call = await client.workflow
            .getHandle(id)
            .executeUpdate(approved ? approveUpdate : denyUpdate, { args: [args] })
            .catch((err: unknown) => {
              throw new Error(
                `task ${id} has no call waiting for approval (${err instanceof Error ? err.message : String(err)})`,
              );
            });
          ctx.print(`${approved ? 'approved' : 'denied'}: ${call.summary}`, { id, decision: name, call });
        });
      });
  }

  program
    .command('cancel')
    .description('cancel a task; its saga undoes what was done')
    .argument('<id>', 'task (workflow) ID')
    .option('--json', 'print JSON')
    .action(async (id: string, opts: { json?: boolean }) => {
      await withContext({ json: Boolean(opts.json) }, async (ctx) => {
        const client = await ctx.client();
        await client.workflow.getHandle(id).cancel();
        ctx.print(`cancellation requested for ${id}; compensations follow`, { id, cancelling: true });
      });
    });
}
