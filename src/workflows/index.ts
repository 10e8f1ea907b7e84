export { pingWorkflow } from './ping.js';
