/**
 * An MCP tool as a session records it, its digest, and its kind. Pure data and functions over the
 * workflow-safe canonical JSON and SHA-256 (no SDK, no Node imports): workflow code may import this
 * file to record a listing, compare digests and decide kinds.
 */
import { canonicalJson } from '../idempotency/canonical.js';
import { base64url, sha256 } from '../idempotency/hash.js';

/** Version of the digest scheme; part of every hashed payload so a change of scheme never collides. */
const DIGEST_VERSION = 1;

/** Base64url characters of SHA-256 kept in a digest: 192 bits. */
const DIGEST_CHARS = 32;

/** The behaviour hints an MCP server gives for a tool (spec `ToolAnnotations`). Untrusted, like any server claim. */
export interface McpToolAnnotations {
  title?: string;
  /** The tool does not change its environment. Spec default false. */
  readOnlyHint?: boolean;
  /** (not read-only) The change may be destructive rather than additive. Spec default true. */
  destructiveHint?: boolean;
  /** (not read-only) Calling again with the same arguments has no further effect. Spec default false. */
  idempotentHint?: boolean;
  /** The tool reaches an open world (the web) rather than a closed domain. Spec default true. */
  openWorldHint?: boolean;
}

/** One listed tool, as recorded: what the model sees, what decides its kind, and its digest. */
export interface McpToolInfo {
  name: string;
  title?: string;
  /** The server's description; `''` when it gives none. */
  description: string;
  /** JSON Schema of the arguments. */
  inputSchema: Record<string, unknown>;
  /** JSON Schema of `structuredContent`, when the tool declares one. */
  outputSchema?: Record<string, unknown>;
  annotations?: McpToolAnnotations;
  /**
   * `mcpt_` + 32 base64url characters of SHA-256 over the canonical JSON of everything above: any
   * change of name, title, description, schemas or annotations changes it. What `expectDigest` of a
   * call is compared with.
   */
  digest: string;
}

/** One server's tool list as a session records it (once; replay and continue-as-new reuse it). */
export interface McpToolList {
  server: string;
  /** Sorted by name. */
  tools: McpToolInfo[];
  /** `mcpl_` + 32 base64url characters over the names and digests of all tools: any change of the list changes it. */
  digest: string;
}

/** What a tool does, for the ledger: a `read` is called plainly, an `effect` under an intent key. */
export type McpToolKind = 'read' | 'effect';

const ANNOTATION_FIELDS = [
  'title',
  'readOnlyHint',
  'destructiveHint',
  'idempotentHint',
  'openWorldHint',
] as const;

function digestOf(prefix: string, value: unknown): string {
  return `${prefix}${base64url(sha256(canonicalJson({ v: DIGEST_VERSION, value }))).slice(0, DIGEST_CHARS)}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A tool as `tools/list` gives it (the SDK's `Tool`, loosely typed so this file needs no SDK import). */
export interface ListedTool {
  name: string;
  title?: string | undefined;
  description?: string | undefined;
  inputSchema: Record<string, unknown>;
  outputSchema?: Record<string, unknown> | undefined;
  annotations?: object | undefined;
}

/**
 * The recorded form of a listed tool. Only the known annotation hints are kept (with their JSON
 * types); other fields of the listing (icons, `_meta`) are not part of what the model uses and do not
 * change the digest.
 */
export function toToolInfo(tool: ListedTool): McpToolInfo {
  let annotations: McpToolAnnotations | undefined;
  if (isRecord(tool.annotations)) {
    const picked: Record<string, unknown> = {};
    for (const field of ANNOTATION_FIELDS) {
      const value = tool.annotations[field];
      if (field === 'title' ? typeof value === 'string' : typeof value === 'boolean') picked[field] = value;
    }
    annotations = picked;
  }
  const info: Omit<McpToolInfo, 'digest'> = {
    name: tool.name,
    ...(tool.title !== undefined ? { title: tool.title } : {}),
    description: tool.description ?? '',
    inputSchema: tool.inputSchema,
    ...(tool.outputSchema !== undefined ? { outputSchema: tool.outputSchema } : {}),
    ...(annotations ? { annotations } : {}),
  };
  return { ...info, digest: digestOf('mcpt_', info) };
}

/** The recorded form of a whole listing: tools sorted by name, with the list's digest. */
export function toToolList(server: string, tools: readonly ListedTool[]): McpToolList {
  const infos = tools.map(toToolInfo).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    server,
    tools: infos,
    digest: digestOf(
      'mcpl_',
      infos.map((t) => [t.name, t.digest]),
    ),
  };
}

/**
 * The kind of an MCP tool. The user's declaration wins (`declared`); without one, the server's
 * annotations decide, failing safe:
 * - `readOnlyHint: true` (and not also `destructiveHint: true`, a contradiction) → `read`;
 * - anything else is an `effect`: `destructiveHint: true`, `idempotentHint: false`, a tool that is
 *   merely not read-only, and a tool with no annotations at all (the spec's defaults describe a
 *   destructive, non-idempotent tool). `idempotentHint: true` does not make a tool a read: it still
 *   changes the world, only a repeat is harmless.
 *
 * Annotations are hints from the server, untrusted by the MCP spec: a server that lies about
 * `readOnlyHint` gets its tool called without a key. Declare the kinds of a server you do not trust.
 */
export function mcpToolKind(info: Pick<McpToolInfo, 'annotations'>, declared?: McpToolKind): McpToolKind {
  if (declared) return declared;
  const hints = info.annotations;
  return hints?.readOnlyHint === true && hints.destructiveHint !== true ? 'read' : 'effect';
}
