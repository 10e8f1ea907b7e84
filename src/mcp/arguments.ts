import type { McpArgument } from './declare.js';
import { McpCompensationArgumentsError, type McpErrorContext } from './errors.js';
import type { McpToolResult } from './call.js';

/** What a compensation's references read: the step's recorded result and its arguments. */
export interface StepRecord {
  result: McpToolResult | undefined;
  arguments: Record<string, unknown>;
}

function at(root: unknown, path: string): unknown {
  let value = root;
  for (const part of path.split('.')) {
    // Own properties only: `constructor` or `__proto__` in a path names nothing.
    if (value === null || typeof value !== 'object' || !Object.hasOwn(value, part)) return undefined;
    value = (value as Record<string, unknown>)[part];
  }
  return value;
}

/** The step's result as references see it: `text`, `structuredContent`, and `json` (the text parsed). */
function resultView(result: McpToolResult): Record<string, unknown> {
  let json: unknown;
  try {
    json = JSON.parse(result.text);
  } catch {
    json = undefined; // not JSON: `json.*` paths name nothing
  }
  return { text: result.text, structuredContent: result.structuredContent, json };
}

/**
 * A compensation's arguments with every `{ $result: path }` and `{ $arguments: path }` replaced by the
 * value it names. Throws {@link McpCompensationArgumentsError} (terminal) for a path that names nothing,
 * or a `$result` reference when there is no recorded result.
 */
export function resolveArguments(
  template: Record<string, McpArgument>,
  step: StepRecord,
  context: McpErrorContext,
): Record<string, unknown> {
  const view = step.result ? resultView(step.result) : undefined;
  const resolve = (value: McpArgument, field: string): unknown => {
    if (Array.isArray(value)) return value.map((v, i) => resolve(v, `${field}.${i}`));
    if (value === null || typeof value !== 'object') return value;
    const keys = Object.keys(value);
    if (keys.length === 1 && (keys[0] === '$result' || keys[0] === '$arguments')) {
      const fromResult = keys[0] === '$result';
      const path = String((value as Record<string, unknown>)[keys[0]]);
      const found = fromResult ? (view ? at(view, path) : undefined) : at(step.arguments, path);
      if (found === undefined)
        throw new McpCompensationArgumentsError(
          fromResult && !view
            ? `compensation argument ${field}: the step has no recorded result to read ${path} from`
            : `compensation argument ${field}: ${fromResult ? "the step's result has" : "the step's arguments have"} nothing at ${path}`,
          context,
        );
      return found;
    }
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v, `${field}.${k}`)]));
  };
  return Object.fromEntries(Object.entries(template).map(([k, v]) => [k, resolve(v, k)]));
}
