/**
 * How an agent declares the MCP servers it takes tools from, and what it says about their tools: which
 * are effects, the fields that make an effect's intent key, and which other tool undoes it. Pure data
 * and checks with no imports but types: agent definitions (workflow code) hold these.
 */
import type { RecoveryPolicy } from '../idempotency/ledger-rows.js';
import type { Execution } from '../tools/define.js';
import type { McpToolKind } from './tool-info.js';

/**
 * A value of a compensation's arguments: a literal JSON value, or a reference resolved on the worker
 * when the compensation runs: `{ $result: 'structuredContent.ticket.id' }` reads the step's recorded
 * result (`text`, `structuredContent`, and `json`, the text parsed as JSON), `{ $arguments: 'ticket_ref' }`
 * the arguments the step was called with. Paths are dot-separated; a missing one fails the compensation
 * for a person rather than guessing.
 */
export type McpArgument =
  | string
  | number
  | boolean
  | null
  | { $result: string }
  | { $arguments: string }
  | McpArgument[]
  | { [field: string]: McpArgument };

/** How an MCP effect is undone: another tool of the same server, called with its own key `<step key>:undo`. */
export interface McpCompensation {
  /** The tool that undoes the step (`delete_ticket` for `create_ticket`). */
  tool: string;
  /** Its arguments; references to the step's result or arguments are resolved when it runs. */
  arguments: Record<string, McpArgument>;
  /** What undoing means, in words shown in the saga state ("delete the ticket"). */
  undo: string;
  /** What a person should do when it keeps failing. Default: "<undo> by hand". */
  personAction?: string;
}

/** What an agent says about one MCP tool. Everything is optional; an effect needs `identity`. */
export interface McpToolDeclaration<P = unknown> {
  /**
   * `read` (called plainly, in parallel with the turn's other reads) or `effect` (keyed, recorded in the
   * ledger). Default: `effect` when `identity` is declared, else from the server's annotations (see
   * `mcpToolKind`: only `readOnlyHint: true` makes a read).
   */
  kind?: McpToolKind;
  /** Argument names that say *which* action this is (which ticket): they make the intent key. */
  identity?: readonly string[];
  /** Other arguments that must not change under the same key (a subject, an amount): fingerprint only. */
  stable?: readonly string[];
  /**
   * After a crashed attempt: `resume` (default) sends again with the same key, which a server that
   * honours `_meta["dev.onceflow/intent-key"]` answers with its first result; `escalate` marks the key
   * for a person (for a server that ignores the key). MCP has no generic way to `verify`.
   */
  recovery?: Exclude<RecoveryPolicy, 'verify'>;
  /** The effect cannot be undone; its compensation (if any) is a correcting action. */
  irreversible?: boolean;
  /** The tool that undoes a call of this one: with it, each call is a saga step. */
  compensation?: McpCompensation;
  /** Why a person must approve this call (under the agent's policy), or undefined. */
  approval?: (args: Record<string, unknown>, policy: P) => string | undefined;
  /** One line for activity summaries and the Web UI. Default `<server>/<tool> <identity values>`. */
  summary?: (args: Record<string, unknown>) => string;
  /**
   * Where its activity and compensation run. Default `regular` (not the agent's default): an MCP server is
   * a remote service that may take longer than a local attempt's 5 s, and a regular activity heartbeats.
   */
  execution?: Execution;
}

/**
 * One MCP server an agent takes tools from. The transport (URL, command, credentials) is the worker's
 * configuration (`onceflow({ mcp: [...] })`), found by `server`; the agent says what its tools are.
 */
export interface McpServerUse<P = unknown> {
  /** The server's name on the worker. */
  server: string;
  /** Declarations by MCP tool name. A declared tool the server does not list fails the session at start. */
  tools?: Readonly<Record<string, McpToolDeclaration<P>>>;
  /** Offer only these tools (and compensations may still call others). Default every tool that passes `undeclared`. */
  only?: readonly string[];
  /**
   * What to do with an effect tool (by kind) that has no declared identity:
   * - `refuse` (default): it is not offered to the model; the session reports it (`mcpTools` query);
   * - `approve`: it is offered, keyed by all of its arguments, and each call waits for a person's
   *   approval (`approve`/`deny` updates), as any tool's `approval` rule.
   */
  undeclared?: 'refuse' | 'approve';
  /** Prefix of the names the model sees (`desk_` → `desk_create_ticket`), against clashes. Default none. */
  prefix?: string;
}

/** The references of a compensation's arguments, by kind: which parts of the step it reads. */
export function argumentRefs(value: McpArgument): { result: string[]; args: string[] } {
  const refs = { result: [] as string[], args: [] as string[] };
  const walk = (v: McpArgument): void => {
    if (Array.isArray(v)) return v.forEach(walk);
    if (v === null || typeof v !== 'object') return;
    const keys = Object.keys(v);
    if (keys.length === 1 && keys[0] === '$result')
      refs.result.push(String((v as { $result: unknown }).$result));
    else if (keys.length === 1 && keys[0] === '$arguments')
      refs.args.push(String((v as { $arguments: unknown }).$arguments));
    else Object.values(v).forEach(walk);
  };
  walk(value);
  return refs;
}

const PATH = /^[A-Za-z0-9_$-]+(\.[A-Za-z0-9_$-]+)*$/;

/**
 * Declares an MCP server an agent uses, checking the declaration at definition time: a `TypeError`
 * names the tool and the problem (an effect without identity fields, identity on a read, a compensation
 * that undoes itself or has malformed references). What can only be checked against the server's list
 * (the tools exist, the identity fields are arguments) is checked when a session lists the tools.
 */
export function mcpServer<P = unknown>(use: McpServerUse<P>): McpServerUse<P> {
  const problem = (why: string) => new TypeError(`MCP server ${use.server}: ${why}`);
  if (!use.server) throw problem('server must name a server configured on the worker');
  if (use.prefix !== undefined && !/^[a-zA-Z0-9_-]{0,32}$/.test(use.prefix))
    throw problem('prefix must match ^[a-zA-Z0-9_-]{0,32}$');
  for (const [name, decl] of Object.entries(use.tools ?? {})) {
    const at = (why: string) => problem(`tool ${name}: ${why}`);
    const kind = declaredKind(decl);
    if (kind === 'effect' && (!decl.identity || decl.identity.length === 0))
      throw at(
        'an effect needs identity: the argument names that make its intent key (which thing it acts on). ' +
          'Declare kind: "read" if it changes nothing.',
      );
    if (kind === 'read' && (decl.identity || decl.stable || decl.compensation || decl.approval))
      throw at('a read has no identity, stable fields, compensation or approval');
    const comp = decl.compensation;
    if (comp) {
      if (comp.tool === name) throw at('a tool cannot be its own compensation');
      if (!comp.undo) throw at('compensation.undo must say what undoing means');
      for (const [field, value] of Object.entries(comp.arguments)) {
        const refs = argumentRefs(value);
        for (const path of [...refs.result, ...refs.args])
          if (!PATH.test(path))
            throw at(`compensation argument ${field}: "${path}" is not a dot-separated path`);
      }
    }
  }
  return use;
}

/** The kind a declaration states or implies (`effect` when it declares identity); undefined: ask the annotations. */
export function declaredKind<P>(decl: McpToolDeclaration<P> | undefined): McpToolKind | undefined {
  if (!decl) return undefined;
  if (decl.kind) return decl.kind;
  if (decl.identity || decl.stable || decl.compensation) return 'effect';
  return undefined;
}
