/**
 * The sandbox ticket desk as an MCP server over stdio, for a client that spawns its servers:
 *
 *   DATABASE_URL=postgres://… node --import tsx src/sandbox/mcp-stdio.ts
 *
 * State is in the `sandbox` schema of DATABASE_URL (migrated on start), shared with the HTTP desk and
 * with other stdio processes. Optional: `SANDBOX_MCP_TOOLS` (`v1` | `v2`, the tool list) and
 * `SANDBOX_MCP_FAULTS` (a JSON array of fault rules, as `POST /__admin/faults` takes). Over stdio the
 * connection is the process, so `drop_after_commit` exits the process after the commit. Logs go to
 * stderr: stdout carries the protocol.
 */
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { createPool } from '../db/pool.js';
import { FaultController } from './faults.js';
import { TicketDesk } from './mcp-desk.js';
import { deskServer } from './mcp-server.js';
import { TOOL_VARIANTS, type ToolVariant } from './mcp-tools.js';
import { migrateSandbox } from './schema.js';

const fail = (message: string): never => {
  process.stderr.write(`onceflow sandbox mcp (stdio): ${message}\n`);
  process.exit(2);
};

const databaseUrl = process.env.DATABASE_URL ?? fail('DATABASE_URL is required');
const variant = (process.env.SANDBOX_MCP_TOOLS ?? 'v1') as ToolVariant;
if (!TOOL_VARIANTS.includes(variant)) fail(`SANDBOX_MCP_TOOLS must be one of ${TOOL_VARIANTS.join(', ')}`);
const faults = new FaultController();
try {
  if (process.env.SANDBOX_MCP_FAULTS) faults.set(JSON.parse(process.env.SANDBOX_MCP_FAULTS));
} catch (err) {
  fail(`SANDBOX_MCP_FAULTS: ${err instanceof Error ? err.message : String(err)}`);
}

const pool = createPool(databaseUrl, 2, 'onceflow-sandbox-mcp');
await migrateSandbox(pool);
const desk = new TicketDesk({ pool, faults, variant });
const server = deskServer(desk, { transport: 'stdio', drop: () => process.exit(1) });

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  desk.close();
  await server.close().catch(() => undefined);
  await pool.end().catch(() => undefined);
  process.exit(0);
}
// The client closing our stdin (or signalling) ends the session; the pool would keep the process alive.
process.stdin.once('end', () => void stop());
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
await server.connect(new StdioServerTransport());
