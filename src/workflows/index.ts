/**
 * The engine's workflow-safe code: what `onceflow/workflow` exports. Nothing here may import Node
 * built-ins, I/O or activity code; the user's worker bundles it with their workflows.
 */
export { defineAgent, type AgentDefinition, type AgentWorkflow } from './agent.js';
export * from './agent-state.js';
export { intentFor, undoIntent } from './intents.js';
export { DEFAULT_EXECUTION } from './activity-call.js';
export {
  compensationCall,
  effectCall,
  localCompensationCall,
  localEffectCall,
  localReadCall,
  modelCall,
  readCall,
} from './options.js';
export { pingWorkflow } from './ping.js';
export { pruneLedgerWorkflow } from './prune.js';
export { reconcileBeforeComplete } from './reconcile.js';
export { unrecordedSteps } from './unrecorded.js';
export {
  describeError,
  isUndone,
  Saga,
  sagaStateQuery,
  sagaStateUpserter,
  type AttentionItem,
  type SagaOptions,
  type SagaState,
  type SagaStatus,
  type SagaStepState,
  type StepDefinition,
  type StepStatus,
} from './saga.js';
export { runSaga, type RunSagaOptions, type SagaOverrides, type SagaSteps } from './saga-workflow.js';
export * from './search-attributes.js';
export {
  stepsQuery,
  toolStep,
  type ApprovalRequest,
  type StepRecord,
  type ToolStepOptions,
} from './tool-step.js';
export {
  mcpServer,
  type McpArgument,
  type McpCompensation,
  type McpServerUse,
  type McpToolDeclaration,
} from '../mcp/declare.js';
export { MCP_TOOL_DECLARATION, MCP_TOOL_LIST_CHANGED, type McpServerReport } from './mcp-tools.js';
export { MCP_ERROR_CODES } from '../mcp/errors.js';
