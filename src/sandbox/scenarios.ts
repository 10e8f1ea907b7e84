import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Where scenario files live: `src/sandbox/scenarios/<name>.json`. */
export const SCENARIOS_DIR = fileURLToPath(new URL('./scenarios/', import.meta.url));

const block = z.union([
  z.object({ type: z.literal('text'), text: z.string() }),
  z.object({ type: z.literal('tool_use'), id: z.string(), name: z.string(), input: z.unknown() }),
]);
const expectation = z.object({
  toolResults: z
    .array(z.object({ isError: z.boolean().optional(), includes: z.string().optional() }))
    .optional(),
});
const turn = z.union([
  z.object({ expect: expectation.optional(), content: z.array(block) }),
  z.object({
    expect: expectation.optional(),
    variants: z
      .array(
        z.object({
          when: z.object({ lastToolResultIncludes: z.string() }).optional(),
          content: z.array(block),
        }),
      )
      .min(1),
  }),
]);
const scenario = z.object({ description: z.string(), turns: z.array(turn).min(1) });

export type Scenario = z.infer<typeof scenario>;
export type ScenarioTurn = z.infer<typeof turn>;
export type ScenarioBlock = z.infer<typeof block>;

/** Loads and validates a scenario by name; undefined when there is no such file. */
export function loadScenario(name: string, dir = SCENARIOS_DIR): Scenario | undefined {
  if (!/^[a-z0-9-]+$/.test(name)) return undefined;
  const file = `${dir.endsWith('/') ? dir : `${dir}/`}${name}.json`;
  if (!existsSync(file)) return undefined;
  return scenario.parse(JSON.parse(readFileSync(file, 'utf8')));
}

/**
 * Replaces `{{name}}` in every string of `value` with the `name=value` token found in `vars`'s source
 * text (the first user message), so one scenario serves many tasks with their own references; and
 * `{{repeat:N:text}}` with `text` N times (at most 64 MiB), for oversized inputs.
 */
export function fillTemplate<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === 'string') {
    return value
      .replace(/\{\{repeat:(\d+):([^}]*)\}\}/g, (_whole, n: string, text: string) =>
        text.repeat(Math.min(Number(n), Math.floor((64 << 20) / Math.max(text.length, 1)))),
      )
      .replace(/\{\{(\w+)\}\}/g, (whole, name: string) => vars[name] ?? whole) as T;
  }
  if (Array.isArray(value)) return value.map((v: unknown) => fillTemplate(v, vars)) as T;
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fillTemplate(v, vars)])) as T;
  }
  return value;
}

/** `key=value` tokens of a text: `order_id=ord_1 email=a@b.c` → `{ order_id: 'ord_1', email: 'a@b.c' }`. */
export function varsFrom(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const m of text.matchAll(/\b([a-z_]+)=([\w@+.-]+)/g)) vars[m[1]!] = m[2]!.replace(/\.+$/, '');
  return vars;
}
