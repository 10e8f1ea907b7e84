import type { Payload, PayloadCodec } from '@temporalio/common';
import type { FastifyPluginCallback } from 'fastify';
import { z } from 'zod';
import { ApiError } from './errors.js';

/** Options of {@link codecServer}. */
export interface CodecServerOptions {
  /** Encodes and decodes the payloads (the AES-GCM codec of `src/codec/aes-gcm.ts`). */
  codec: PayloadCodec;
  /** Origin allowed to call it from a browser (the Web UI). Default `*`. */
  corsOrigin?: string | undefined;
}

// Payloads in Temporal's proto JSON: bytes are base64. `{}` is an empty list: proto JSON leaves out an
// empty repeated field, which is what the Temporal CLI sends for a query without arguments.
const jsonPayload = z.object({
  metadata: z.record(z.string(), z.string()).nullish(),
  data: z.string().nullish(),
});
const codecRequest = z.object({ payloads: z.array(jsonPayload).nullish() }).nullish();

function fromJson(p: z.infer<typeof jsonPayload>): Payload {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
    ),
    data: Buffer.from(p.data ?? '', 'base64'),
  };
}

function toJson(p: Payload) {
  return {
    metadata: Object.fromEntries(
      Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
    ),
    data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
  };
}

/**
 * The Temporal codec server protocol, for the Web UI and the `temporal` CLI (`--codec-endpoint`):
 * `POST <prefix>/encode` and `<prefix>/decode` take and return `{ payloads: [{ metadata, data }] }`
 * with base64 bytes; a body without `payloads` is an empty list. CORS for the Web UI's origin, with
 * preflights answered before authentication (browsers send them without credentials). Register it
 * with a prefix: `app.register(codecServer({ codec }), { prefix: '/codec' })`.
 *
 * A payload the codec cannot decode (another key, tampered data) fails the request with a 400
 * `CODEC_FAILED`; a malformed body is a 400 `INVALID_REQUEST`.
 */
export function codecServer(options: CodecServerOptions): FastifyPluginCallback {
  return (app, _options, done) => {
    // onSend, not onRequest: the headers must also be on a 401 answered by an earlier hook.
    app.addHook('onSend', async (_request, reply) => {
      void reply.header('access-control-allow-origin', options.corsOrigin ?? '*');
      void reply.header('access-control-allow-headers', 'authorization, content-type, x-namespace');
      void reply.header('access-control-allow-methods', 'POST, OPTIONS');
      if (options.corsOrigin && options.corsOrigin !== '*') void reply.header('vary', 'origin');
    });
    for (const op of ['encode', 'decode'] as const) {
      app.options(`/${op}`, { schema: { hide: true } }, async (_request, reply) => reply.code(204).send());
      app.post(`/${op}`, { schema: { hide: true } }, async (request) => {
        const parsed = codecRequest.safeParse(request.body);
        if (!parsed.success) {
          const issue = parsed.error.issues[0];
          throw new ApiError(
            400,
            'INVALID_REQUEST',
            `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`,
          );
        }
        const payloads = (parsed.data?.payloads ?? []).map(fromJson);
        try {
          return { payloads: (await options.codec[op](payloads)).map(toJson) };
        } catch (err) {
          throw new ApiError(
            400,
            'CODEC_FAILED',
            `${op}: ${err instanceof Error ? err.message : String(err)}`,
          );
        }
      });
    }
    done();
  };
}
