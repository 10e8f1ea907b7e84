/**
 * The `_meta` names onceflow puts on MCP messages. The engine owns them; MCP servers that honour an
 * intent key (the sandbox ticket desk among them) read and write these. Plain constants with no
 * imports: workflow code may use them.
 *
 * MCP `_meta` names are `prefix/name` with a reverse-DNS prefix (spec 2025-11-25); `dev.onceflow/` is
 * ours and outside the reserved space (a second label `modelcontextprotocol` or `mcp`).
 */

/**
 * The `_meta` key under which a `tools/call` request carries its intent key: the same key with the same
 * arguments must be answered with the first call's result (like Stripe's `Idempotency-Key`).
 */
export const INTENT_KEY_META = 'dev.onceflow/intent-key';

/** The result `_meta` flag a server sets when the result is the stored first result of an intent key. */
export const REPLAYED_META = 'dev.onceflow/replayed';
