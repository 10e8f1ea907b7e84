/**
 * `onceflow`: define tools (workflow-safe, usable on both sides). Agents and sagas are in
 * `onceflow/workflow`, the effect wrapper in `onceflow/activity`, the worker plugin in
 * `onceflow/worker`, task starts in `onceflow/client`, the HTTP API in `onceflow/api` and the
 * sandboxes and test environment in `onceflow/testing`.
 */
export * from './tools/public.js';
export { ConfigError, OnceflowError } from './errors.js';
