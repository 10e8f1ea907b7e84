import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Worker } from '@temporalio/worker';
import { onceflow } from 'onceflow/worker';
import pg from 'pg';
import { openTicket } from './activities.js';
import { supportAgent } from './workflows.js';

const address = process.env.TEMPORAL_ADDRESS ?? 'localhost:7233';
const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
const worker = await Worker.create({
  connection: await NativeConnection.connect({ address }),
  taskQueue: 'support',
  workflowsPath: new URL('./workflows.js', import.meta.url).pathname,
  activities: { openTicket },
  plugins: [onceflow({ pool })],
});
const ref = process.argv[2] ?? 'T-1';
const result = await worker.runUntil(async () => {
  const client = new Client({ connection: await Connection.connect({ address }) });
  return client.workflow.execute(supportAgent, {
    taskQueue: 'support',
    workflowId: `support-${ref}`, // the business task: it scopes every intent key
    args: [{ prompt: `Printer broken: open ticket_ref=${ref}.`, scenario: process.env.SCENARIO }],
  });
});
console.log(JSON.stringify(result));
await pool.end();
