import { DefaultLogger, Runtime } from '@temporalio/worker';
import { Command } from 'commander';
import { resolveTemporalCli } from './dev/temporal-cli.js';
import { loadConfig } from './config.js';
import { loadDevApp, loadTasks } from './dev/app.js';
import { start } from './dev/start.js';
import { runApi } from './cli/api.js';
import { errorLine } from './cli/context.js';
import { runSandbox } from './cli/sandbox.js';
import { registerHistoryCommands } from './cli/history.js';
import { registerTaskCommands } from './cli/tasks.js';

const program = new Command()
  .name('onceflow')
  .description('AI agents as durable Temporal workflows where every side effect happens once');

// The SDK logs every worker state change at INFO; a terminal user wants our lines and warnings.
Runtime.install({
  logger: new DefaultLogger('WARN'),
  // Core logs straight to the console; keep its warnings (e.g. a replay's nondeterminism) off --json output.
  telemetryOptions: { logging: { filter: { core: 'ERROR', other: 'ERROR' } } },
});

program
  .command('setup')
  .description('make sure a Temporal CLI is available (builds it once with Go when needed)')
  .action(async () => {
    const config = loadConfig();
    if (config.temporalAddress) {
      process.stdout.write(`onceflow: using TEMPORAL_ADDRESS ${config.temporalAddress}; nothing to set up\n`);
      return;
    }
    const source = await resolveTemporalCli();
    process.stdout.write(
      `onceflow: Temporal CLI: ${source.kind === 'path' ? `${source.path} (${source.origin})` : "the SDK's download on first start"}\n`,
    );
  });

program
  .command('start')
  .description('run the embedded default: dev server, Postgres, worker and a demo task; Ctrl-C stops all')
  .option(
    '--app <module>',
    "a module whose default export is a DevApp (your worker and demo); default this repository's order example",
  )
  .action(async (opts: { app?: string }) => {
    await start(loadConfig(), await loadDevApp(opts.app));
  });

program
  .command('api')
  .description('run the HTTP API alone against TEMPORAL_ADDRESS and DATABASE_URL (containers, compose)')
  .option(
    '--tasks <module>',
    "a module exporting `tasks`: the task kinds POST /tasks starts; default this repository's order example",
  )
  .action(async (opts: { tasks?: string }) => {
    await runApi(loadConfig(), await loadTasks(opts.tasks));
  });

program
  .command('sandbox')
  .description(
    'run the sandbox services alone on fixed ports (payments 12111, SMTP 2525, mailbox 8025, model 8026, MCP 8027)',
  )
  .action(async () => {
    await runSandbox(loadConfig());
  });

registerTaskCommands(program);
registerHistoryCommands(program);

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`onceflow: ${errorLine(err)}\n`);
  process.exit(1);
});
