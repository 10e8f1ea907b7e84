/**
 * `onceflow/workflow`: workflow-safe code only (Temporal's workflow sandbox bundles it with your
 * workflows): agents, tools, the saga and intent derivation. Import activity-side code from
 * `onceflow/activity` and the worker plugin from `onceflow/worker`.
 */
export * from './workflows/index.js';
export * from './tools/public.js';
