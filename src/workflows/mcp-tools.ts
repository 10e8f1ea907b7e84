/**
 * An agent's MCP tools, built in workflow code from the listing its session recorded and the agent's
 * declarations: each is a `Tool` like a `defineTool` one, so the loop keys, approves, records and
 * compensates it the same way. Deterministic: the same listing and declarations give the same tools.
 */
import { ApplicationFailure, proxyActivities } from '@temporalio/workflow';
import type { McpActivities } from '../mcp/activities.js';
import { declaredKind, type McpServerUse, type McpToolDeclaration } from '../mcp/declare.js';
import { MCP_ERROR_CODES } from '../mcp/errors.js';
import { MCP_ACTIVITY, type McpToolRequest, type McpUndoRequest } from '../mcp/requests.js';
import { mcpToolKind, type McpToolInfo, type McpToolKind, type McpToolList } from '../mcp/tool-info.js';
import type { PreparedCall, Tool } from '../tools/define.js';
import type { EffectSpec } from '../tools/effects.js';
import { mcpListCall } from './options.js';

/** Failure type of a session whose MCP declarations do not fit what the server lists. */
export const MCP_TOOL_DECLARATION = 'MCP_TOOL_DECLARATION';

/** Failure type of a call refused because its tool changed on the server since the session listed it. */
export const MCP_TOOL_LIST_CHANGED = MCP_ERROR_CODES.toolListChanged;

/** What a session offers of one server, as the `mcpTools` query reports it. */
export interface McpServerReport {
  server: string;
  /** The listing's digest (`mcpl_…`). */
  digest: string;
  offered: { name: string; tool: string; kind: McpToolKind; digest: string; keyed: string[] }[];
  /** Listed tools not offered to the model, and why. */
  withheld: { tool: string; reason: string }[];
}

/** The MCP tools of an agent session. */
export interface McpSessionTools {
  tools: Tool[];
  servers: McpServerReport[];
}

const NAME = /^[a-zA-Z0-9_-]{1,64}$/;

/** A session's MCP tools and the listings they were built from (carried by continue-as-new). */
export interface McpSession extends McpSessionTools {
  lists: McpToolList[];
}

/**
 * The MCP tools of an agent session: the listings a previous run carried, else each server listed now
 * (one `mcpListTools` activity per server, in parallel, recorded in history), built into tools by
 * {@link buildMcpTools}. Throws what listing or building throws (`MCP_SERVER_CONFIG`,
 * `MCP_UNAVAILABLE` after its retries, `MCP_TOOL_DECLARATION`).
 */
export async function openMcpSession<P>(
  uses: readonly McpServerUse<P>[],
  carried: McpToolList[] | undefined,
  taken: ReadonlySet<string>,
): Promise<McpSession> {
  if (uses.length === 0) return { lists: [], tools: [], servers: [] };
  const mcp = proxyActivities<McpActivities>(mcpListCall);
  const lists =
    carried ??
    (await Promise.all(
      uses.map((use) =>
        mcp.mcpListTools.executeWithOptions({ summary: `list MCP tools of ${use.server}` }, [
          { server: use.server },
        ]),
      ),
    ));
  return { lists, ...buildMcpTools(uses, lists, taken) };
}

function propertiesOf(info: McpToolInfo): string[] {
  const props = info.inputSchema.properties;
  return props && typeof props === 'object' ? Object.keys(props) : [];
}

function requiredOf(info: McpToolInfo): string[] {
  const required = info.inputSchema.required;
  return Array.isArray(required) ? required.filter((f): f is string => typeof f === 'string') : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The tools a session offers from its recorded listings. Throws a non-retryable `MCP_TOOL_DECLARATION`
 * failure naming every mismatch (a declared tool or a compensation the server does not list, identity
 * fields that are not arguments, a name clash): the session stops before it does anything.
 */
export function buildMcpTools<P>(
  uses: readonly McpServerUse<P>[],
  lists: readonly McpToolList[],
  taken: ReadonlySet<string>,
): McpSessionTools {
  const problems: string[] = [];
  const tools: Tool[] = [];
  const servers: McpServerReport[] = [];
  const names = new Set(taken);
  for (const use of uses) {
    const list = lists.find((l) => l.server === use.server);
    if (!list) {
      problems.push(`${use.server}: no listing recorded`);
      continue;
    }
    const byName = new Map(list.tools.map((t) => [t.name, t] as const));
    const report: McpServerReport = { server: use.server, digest: list.digest, offered: [], withheld: [] };
    servers.push(report);
    const declared = use.tools ?? {};
    for (const name of Object.keys(declared))
      if (!byName.has(name))
        problems.push(`${use.server}: declared tool ${name} is not listed by the server`);
    for (const name of use.only ?? [])
      if (!byName.has(name)) problems.push(`${use.server}: ${name} (in only) is not listed by the server`);
    for (const info of list.tools) {
      const decl = declared[info.name];
      const props = propertiesOf(info);
      // Every declaration is checked against the listing, offered or not: a wrong one stays wrong.
      const undeclaredArgs = [...(decl?.identity ?? []), ...(decl?.stable ?? [])].filter(
        (f) => !props.includes(f),
      );
      if (undeclaredArgs.length > 0) {
        problems.push(
          `${use.server}: tool ${info.name} has no argument ${undeclaredArgs.join(', ')} (declared as identity or stable)`,
        );
        continue;
      }
      if (use.only && !use.only.includes(info.name)) {
        report.withheld.push({ tool: info.name, reason: 'not in only' });
        continue;
      }
      const kind = mcpToolKind(info, declaredKind(decl));
      let identity = decl?.identity ?? [];
      // Fields a call must send: declared identity fields all; for a tool keyed by all of its arguments,
      // those its schema requires (an absent optional argument is a key of its own, as `undefined`).
      let mustSend = identity;
      let needsApproval = false;
      if (kind === 'effect' && identity.length === 0) {
        if (decl) {
          problems.push(
            `${use.server}: tool ${info.name} is an effect (by its annotations): declare its identity`,
          );
          continue;
        }
        if (use.undeclared !== 'approve' || props.length === 0) {
          report.withheld.push({
            tool: info.name,
            reason: 'an effect without declared identity fields (declare them, or undeclared: "approve")',
          });
          continue;
        }
        identity = props; // keyed by all of its arguments, and approved call by call
        mustSend = requiredOf(info).filter((f) => props.includes(f));
        needsApproval = true;
      }
      const comp = decl?.compensation;
      const undoInfo = comp ? byName.get(comp.tool) : undefined;
      if (comp && !undoInfo) {
        problems.push(
          `${use.server}: ${comp.tool}, the compensation of ${info.name}, is not listed by the server`,
        );
        continue;
      }
      const offeredAs = `${use.prefix ?? ''}${info.name}`;
      if (!NAME.test(offeredAs)) {
        problems.push(
          `${use.server}: tool name ${offeredAs} is not a valid model tool name (^[a-zA-Z0-9_-]{1,64}$)`,
        );
        continue;
      }
      if (names.has(offeredAs)) {
        problems.push(`${use.server}: tool name ${offeredAs} is taken by another tool (set a prefix)`);
        continue;
      }
      names.add(offeredAs);
      tools.push(mcpTool(use, info, offeredAs, kind, identity, mustSend, decl, needsApproval, undoInfo));
      report.offered.push({
        name: offeredAs,
        tool: info.name,
        kind,
        digest: info.digest,
        keyed: [...identity],
      });
    }
  }
  if (problems.length > 0)
    throw ApplicationFailure.nonRetryable(
      `the agent's MCP declarations do not fit the servers' tools: ${problems.join('; ')}`,
      MCP_TOOL_DECLARATION,
      { problems },
    );
  return { tools, servers };
}

function mcpTool<P>(
  use: McpServerUse<P>,
  info: McpToolInfo,
  name: string,
  kind: McpToolKind,
  identity: readonly string[],
  mustSend: readonly string[],
  decl: McpToolDeclaration<P> | undefined,
  needsApproval: boolean,
  undoInfo: McpToolInfo | undefined,
): Tool {
  const server = use.server;
  const effect: EffectSpec | undefined =
    kind === 'effect'
      ? {
          tool: `mcp:${server}/${info.name}`, // not the offered name: a prefix change keeps the keys
          identityFields: identity,
          stableFields: decl?.stable ?? [],
          recovery: decl?.recovery ?? 'resume',
          ...(decl?.irreversible ? { irreversible: true } : {}),
        }
      : undefined;
  const summaryOf = (args: Record<string, unknown>) =>
    decl?.summary?.(args) ??
    `${server}/${info.name}${identity.length ? ` ${identity.map((f) => `${f}=${String(args[f])}`).join(' ')}` : ''}`;
  const description = [info.title, info.description].filter(Boolean).join(': ');
  return {
    name,
    description,
    kind: kind === 'read' ? 'read_only' : 'effect',
    activity: kind === 'read' ? MCP_ACTIVITY.read : MCP_ACTIVITY.effect,
    effect,
    undoes: undefined,
    irreversible: decl?.irreversible ?? false,
    // Regular unless declared: a remote server may outlast a local attempt (5 s), and heartbeats matter.
    execution: decl?.execution ?? 'regular',
    schema: () => ({ name, description, input_schema: info.inputSchema }),
    prepare(raw): { call: PreparedCall } | { issues: string } {
      // The server validates the arguments against its schema (an invalid call is an `isError` answer the
      // model reads); here only what the key needs: an object with every identity field.
      if (!isRecord(raw)) return { issues: '(input): expected an object of arguments' };
      const absent = mustSend.filter((f) => raw[f] === undefined);
      if (absent.length > 0)
        return { issues: absent.map((f) => `${f}: required (it identifies the action)`).join('; ') };
      const request: McpToolRequest = { server, tool: info.name, arguments: raw, expectDigest: info.digest };
      const summary = summaryOf(raw);
      const comp = decl?.compensation;
      return {
        call: {
          input: raw,
          activityInput: raw,
          request,
          summary,
          approvalReason: (policy) =>
            decl?.approval?.(raw, policy as P) ??
            (needsApproval
              ? `${server}/${info.name} is an MCP effect without declared identity fields: each call needs a person`
              : undefined),
          compensation:
            comp && undoInfo && effect
              ? (_stepKey) => {
                  const undo: McpUndoRequest = {
                    server,
                    tool: comp.tool,
                    arguments: comp.arguments,
                    expectDigest: undoInfo.digest,
                    step: { ...request, effect },
                  };
                  return {
                    activity: MCP_ACTIVITY.undo,
                    undo: comp.undo,
                    input: undo,
                    personAction: comp.personAction ?? `${comp.undo} by hand (${summary})`,
                    recovery: 'resume',
                  };
                }
              : undefined,
          abort: undefined,
        },
      };
    },
  };
}
