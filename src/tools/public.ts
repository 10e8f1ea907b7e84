/** The tool-definition API and the types tools and workflows share: workflow-safe. */
export {
  abortTask,
  defineTool,
  type Execution,
  formatIssues,
  type BoundCompensation,
  type CompensationRule,
  type EffectRule,
  type PreparedCall,
  type Tool,
  type ToolContext,
  type ToolKind,
  type ToolSpec,
} from './define.js';
export { intentOf, undoKeyOf } from './intent.js';
export type { EffectResult, EffectSpec, Intent, Keyed } from './effects.js';
export type { Message, ToolResultBlock, ToolSchema, ToolUseBlock } from './messages.js';
