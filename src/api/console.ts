import { readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';

/**
 * The operator console's files (`index.html`, its ES modules and styles), next to this module in
 * src/ and, copied by `scripts/copy-assets.ts`, in dist/.
 */
const DIR = fileURLToPath(new URL('./console/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
};

/**
 * The page holds no data and runs only its own files: every call it makes goes to this API (with the
 * token the operator types), and the Web UI is only linked to.
 */
const CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "connect-src 'self'",
  'img-src data:',
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

let assets: Map<string, { type: string; body: Buffer }> | undefined;

/** The console's files by name, read once, at the first registration. */
function loadAssets(): Map<string, { type: string; body: Buffer }> {
  assets ??= new Map(
    readdirSync(DIR)
      .filter((name) => TYPES[extname(name)] !== undefined)
      .map((name) => [name, { type: TYPES[extname(name)]!, body: readFileSync(join(DIR, name)) }]),
  );
  if (!assets.has('index.html')) throw new Error(`operator console: ${join(DIR, 'index.html')} missing`);
  return assets;
}

/**
 * The operator console: `GET /console`, a small page that starts tasks, lists them, follows one live
 * (text, tool calls with their intent keys and outcomes, approvals, the saga's steps) and links to the
 * Temporal Web UI, all through this API's own routes. The page and its files are public (they hold
 * no data) and left out of the OpenAPI document; the data calls carry the bearer token the operator
 * types in, kept in the tab's sessionStorage. Links are relative, so it works under any prefix.
 */
export function operatorConsole(): FastifyPluginCallback {
  return (app, _options, done) => {
    const files = loadAssets();
    const serve = (name: string, request: FastifyRequest, reply: FastifyReply) => {
      const file = files.get(name)!;
      // A server with ignoreTrailingSlash routes /console/ here too; the page's links resolve from /console.
      if (name === 'index.html' && request.url.split('?')[0]!.endsWith('/'))
        return reply.redirect('../console');
      return reply
        .header('content-type', file.type)
        .header('cache-control', 'no-cache')
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('content-security-policy', CSP)
        .send(file.body);
    };
    for (const name of files.keys()) {
      const url = name === 'index.html' ? '/console' : `/console/${name}`;
      app.get(url, { schema: { hide: true }, config: { public: true } }, (request, reply) =>
        serve(name, request, reply),
      );
    }
    done();
  };
}
