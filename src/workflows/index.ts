export { pingWorkflow } from './ping.js';
export { orderWorkflow, stepsQuery } from './order.js';
export { sagaStateQuery } from './saga.js';
export { agentWorkflow } from './agent.js';
export * from './agent-state.js';
export { pruneLedgerWorkflow } from './prune.js';
