import type { Payload, PayloadCodec } from '@temporalio/common';
import { defaultPayloadConverter } from '@temporalio/common';
import proto from '@temporalio/proto';

// @temporalio/proto is CommonJS: under Node's ESM loader only its default export is reliable.
const { temporal } = proto;

/** How a row body is stored: `json` (UTF-8 JSON), or `codec` (a Temporal payload encrypted by the codec, as protobuf). */
export type SealedEncoding = 'json' | 'codec';

/**
 * A value as a row body: with a codec, the value as a Temporal payload encrypted by the worker's
 * payload codec, so Postgres holds no more plaintext than history does; without one, JSON.
 */
export async function seal(
  codec: PayloadCodec | undefined,
  value: unknown,
): Promise<{ encoding: SealedEncoding; body: Buffer }> {
  if (!codec) return { encoding: 'json', body: Buffer.from(JSON.stringify(value)) };
  const [payload] = await codec.encode([defaultPayloadConverter.toPayload(value)]);
  return {
    encoding: 'codec',
    body: Buffer.from(temporal.api.common.v1.Payload.encode(payload as Payload).finish()),
  };
}

/** The value {@link seal} stored. Throws when the body is encrypted and there is no codec, or another key sealed it. */
export async function unseal(
  codec: PayloadCodec | undefined,
  encoding: SealedEncoding,
  body: Buffer,
): Promise<unknown> {
  if (encoding === 'json') return JSON.parse(body.toString('utf8')) as unknown;
  if (!codec) throw new Error('the row is encrypted and this process has no codec key');
  const payload = temporal.api.common.v1.Payload.decode(body) as Payload;
  const [plain] = await codec.decode([payload]);
  return defaultPayloadConverter.fromPayload<unknown>(plain as Payload);
}
