import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Payload, PayloadCodec } from '@temporalio/common';
import proto from '@temporalio/proto';
import { ConfigError } from '../errors.js';

// @temporalio/proto is CommonJS: under Node's ESM loader only its default export is reliable.
const { temporal } = proto;
/** The `encoding` metadata of a payload this codec encrypted. */
export const ENCRYPTED_ENCODING = 'binary/encrypted';
const IV_BYTES = 12;
const TAG_BYTES = 16;
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * AES-256-GCM payload encryption: prompts, transcripts and customer data are ciphertext in Temporal's
 * database and history; only workers, clients and the codec server holding the key can read them. The
 * key id travels in the payload metadata so keys can be rotated (decode picks the key by id).
 */
export class AesGcmCodec implements PayloadCodec {
  constructor(
    private readonly keys: Map<string, Buffer>,
    private readonly currentKeyId: string,
  ) {
    for (const [id, key] of keys) {
      if (key.length !== 32)
        throw new ConfigError(`codec key ${id} must be 32 bytes (AES-256), got ${key.length}`);
    }
    if (!keys.has(currentKeyId)) throw new ConfigError(`codec key id ${currentKeyId} has no key`);
  }

  /** The ids of the keys this codec can decrypt with; the encrypting key first. */
  get keyIds(): string[] {
    return [this.currentKeyId, ...[...this.keys.keys()].filter((id) => id !== this.currentKeyId)];
  }

  // async: a failure must reject the promise, never throw synchronously into the caller.
  async encode(payloads: Payload[]): Promise<Payload[]> {
    await Promise.resolve();
    const key = this.keys.get(this.currentKeyId)!;
    return payloads.map((payload) => {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv('aes-256-gcm', key, iv);
      const plain = temporal.api.common.v1.Payload.encode(payload).finish();
      const data = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
      return {
        metadata: {
          encoding: encoder.encode(ENCRYPTED_ENCODING),
          'encryption-key-id': encoder.encode(this.currentKeyId),
        },
        data,
      };
    });
  }

  async decode(payloads: Payload[]): Promise<Payload[]> {
    await Promise.resolve();
    return payloads.map((payload) => {
      if (!payload.metadata?.encoding || decoder.decode(payload.metadata.encoding) !== ENCRYPTED_ENCODING)
        return payload;
      const keyId = payload.metadata['encryption-key-id']
        ? decoder.decode(payload.metadata['encryption-key-id'])
        : '';
      const key = this.keys.get(keyId);
      if (!key) throw new ConfigError(`no codec key for key id "${keyId}"`);
      const data = Buffer.from(payload.data ?? new Uint8Array());
      const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      const plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
      return temporal.api.common.v1.Payload.decode(plain);
    });
  }
}

/**
 * The codec from `ONCEFLOW_CODEC_KEY` (base64 of 32 bytes; `id:base64,id:base64` for several, the
 * first encrypts) and `ONCEFLOW_CODEC_KEY_ID` (default `k1`). Undefined when no key is set: payloads
 * stay plaintext JSON.
 */
export function codecFromEnv(env: Record<string, string | undefined> = process.env): AesGcmCodec | undefined {
  const raw = env.ONCEFLOW_CODEC_KEY?.trim();
  if (!raw) return undefined;
  const entries = raw.split(',').map((part, i) => {
    const [id, b64] = part.includes(':')
      ? (part.split(':', 2) as [string, string])
      : [env.ONCEFLOW_CODEC_KEY_ID ?? `k${i + 1}`, part];
    return [id, Buffer.from(b64, 'base64')] as const;
  });
  return new AesGcmCodec(new Map(entries), entries[0]![0]);
}

/** `<data dir>/codec.key`: the key `npm start` generates for the embedded default. */
export function codecKeyFile(dataDir: string): string {
  return join(dataDir, 'codec.key');
}

/**
 * The codec a process should use: `ONCEFLOW_CODEC_KEY` if set, else the embedded default's key file
 * (created with `create: true`, by `npm start`), else none.
 */
export function resolveCodec(dataDir: string, options: { create?: boolean } = {}): AesGcmCodec | undefined {
  const fromEnv = codecFromEnv();
  if (fromEnv) return fromEnv;
  const file = codecKeyFile(dataDir);
  if (!existsSync(file)) {
    if (!options.create) return undefined;
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `k1:${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
  }
  return codecFromEnv({ ONCEFLOW_CODEC_KEY: readFileSync(file, 'utf8').trim() });
}
