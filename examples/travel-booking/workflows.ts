/** The travel example's workflows file: what its worker bundles (`workflowsPath`). */
export { pruneLedgerWorkflow } from 'onceflow/workflow';
export { travelAgent } from './agent.js';
export { tripWorkflow } from './trip-saga.js';
