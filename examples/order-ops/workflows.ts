/** The order example's workflows file: what its worker bundles (`workflowsPath`). */
export { pingWorkflow, pruneLedgerWorkflow, stepsQuery } from 'onceflow/workflow';
export { agentWorkflow } from './agent.js';
export { orderWorkflow } from './order-saga.js';
export { supportAgent } from './support-agent.js';
