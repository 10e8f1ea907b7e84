export { pingWorkflow } from './ping.js';
export { orderWorkflow, sagaStateQuery, stepsQuery } from './order.js';
export { agentWorkflow } from './agent.js';
export * from './agent-state.js';
export { pruneLedgerWorkflow } from './prune.js';
