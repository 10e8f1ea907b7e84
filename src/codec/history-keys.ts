import { ENCRYPTED_ENCODING } from './aes-gcm.js';

const decoder = new TextDecoder();

/**
 * The key ids of the encrypted payloads anywhere in `value` (a history, an event, a payload list), read
 * from their metadata without decrypting anything. A replay checks them first so that a missing key is
 * one clear sentence instead of the workflow's "Unknown encoding" failure deep in the replay.
 */
export function encryptedKeyIds(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value !== 'object' || value === null || value instanceof Uint8Array) return found;
  if (Array.isArray(value)) {
    for (const item of value) encryptedKeyIds(item, found);
    return found;
  }
  const metadata: unknown = (value as { metadata?: unknown }).metadata;
  const encoding = bytesAt(metadata, 'encoding');
  if (encoding && decoder.decode(encoding) === ENCRYPTED_ENCODING) {
    const id = bytesAt(metadata, 'encryption-key-id');
    found.add(id ? decoder.decode(id) : '');
    return found;
  }
  for (const child of Object.values(value)) encryptedKeyIds(child, found);
  return found;
}

function bytesAt(metadata: unknown, key: string): Uint8Array | undefined {
  if (typeof metadata !== 'object' || metadata === null) return undefined;
  const value: unknown = (metadata as Record<string, unknown>)[key];
  return value instanceof Uint8Array ? value : undefined;
}

/**
 * Why `keyIds` (a history's encrypted payloads) cannot be decrypted with `available` (the configured
 * keys, undefined for no codec), as one line naming what to set; undefined when they can.
 */
export function missingKeyProblem(keyIds: Set<string>, available: string[] | undefined): string | undefined {
  if (keyIds.size === 0) return undefined;
  const needed = [...keyIds].sort();
  const list = (ids: string[]) => ids.map((id) => `key ${id || '(no id)'}`).join(', ');
  if (!available) {
    return (
      `payloads are encrypted (${list(needed)}) and no codec key is configured: set ` +
      `ONCEFLOW_CODEC_KEY=<id>:<base64>[,…] or ONCEFLOW_DATA_DIR to the data dir holding codec.key`
    );
  }
  const missing = needed.filter((id) => !available.includes(id));
  if (missing.length === 0) return undefined;
  return (
    `payloads are encrypted with ${list(missing)}, not among the configured keys (${available.join(', ')}): ` +
    `after a rotation keep the old key listed, e.g. ONCEFLOW_CODEC_KEY=<new id>:<base64>,${missing[0]}:<base64>`
  );
}
