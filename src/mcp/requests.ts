/**
 * What an agent's MCP tools hand their activities, and the activities' names: the contract between the
 * workflow side (`src/workflows/mcp-tools.ts`) and the worker side (`activities.ts`). Types and
 * constants only: workflow code imports this file.
 */
import type { EffectSpec } from '../tools/effects.js';
import type { McpArgument } from './declare.js';

/** Names of the MCP activities the onceflow worker plugin registers. */
export const MCP_ACTIVITY = {
  list: 'mcpListTools',
  read: 'mcpReadTool',
  effect: 'mcpEffectTool',
  undo: 'mcpUndoTool',
} as const;

/** One tool call as an agent's MCP tool sends it: the `input` of `mcpReadTool` and `mcpEffectTool`. */
export interface McpToolRequest {
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
  /** The tool's digest as the session listed it: a tool changed since is refused, not called. */
  expectDigest: string;
}

/** The `input` of `mcpUndoTool`: the compensating call, and the step it undoes. */
export interface McpUndoRequest {
  server: string;
  /** The compensating tool. */
  tool: string;
  /** Its arguments, with references to the step's result or arguments (see `McpArgument`). */
  arguments: Record<string, McpArgument>;
  expectDigest: string;
  /** The step: enough to resend it under its own key when its outcome is unknown and its result is needed. */
  step: McpToolRequest & { effect: EffectSpec };
}
