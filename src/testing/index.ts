/**
 * `onceflow/testing`: what we test our agents with, for testing yours — `createTestEnv` (client, Postgres,
 * workers with the plugin, history and ledger readers), the sandbox downstreams (a Stripe-compatible
 * payments API, SMTP with a lookup API, a scripted Anthropic Messages API), the embedded dev stack
 * (Temporal dev server and Postgres) and the configuration reader.
 */
export {
  auditEmail,
  auditPayments,
  FaultController,
  readSandboxAddresses,
  readSandboxEndpoints,
  sandboxEndpoints,
  startSandbox,
  writeSandboxAddresses,
  type EmailAudit,
  type FaultKind,
  type FaultRule,
  type PaymentsAudit,
  type Sandbox,
  type SandboxAddresses,
  type SandboxEndpoints,
  type SandboxOptions,
} from '../sandbox/index.js';
export { activityCalls, LOCAL_ACTIVITY_MARKER, type ActivityCall } from '../history/activity-calls.js';
export { startStack, type Stack, type StackOptions } from '../dev/stack.js';
export { loadConfig, type Config } from '../config.js';
export { createModelClient, describeModelClient } from '../model-client.js';
export { createPool } from '../db/pool.js';
export { migrate, type MigrationSet } from '../db/migrate.js';
export { loadDevApp, type DevApp, type DevWorker, type DevWorkerContext } from '../dev/app.js';
export { startScriptedModel, type ScriptedModel } from './scripted-model.js';
export { createTestEnv, type TestEnv, type TestEnvOptions, type TestWorkflowOptions } from './env.js';
export type { LedgerRow, LedgerStats } from '../idempotency/ledger.js';
