import swagger from '@fastify/swagger';
import type { PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyInstance } from 'fastify';
import type { TaskService } from '../tasks/index.js';
import { codecServer } from './codec-server.js';
import { ApiError, sendError, toApiError } from './errors.js';
import { taskRoutes } from './tasks.js';
import { zodValidator } from './validation.js';

/** Options of {@link buildApi}. */
export interface ApiOptions extends TaskService {
  /** `API_TOKEN`: when set, every route but /health needs `Authorization: Bearer <token>`. */
  apiToken?: string | undefined;
  /** Largest accepted body; default 64 KiB. */
  bodyLimit?: number;
  /** SSE poll interval; default 500 ms. */
  eventsIntervalMs?: number;
  /** Serves the codec server at `/codec/encode` and `/codec/decode` (Web UI, `temporal` CLI) when set. */
  codec?: PayloadCodec | undefined;
  /** Origin allowed to call the codec server (the Web UI). Default `*`. */
  corsOrigin?: string;
}

/** A route path as a pattern over request paths (`/tasks/:id` → `/tasks/[^/]+`). */
function pathPattern(url: string): RegExp {
  const source = url
    .split('/')
    .map((part) => (part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('/');
  return new RegExp(`^${source}/?$`);
}

/** The backend HTTP API (Fastify 5): start, inspect, approve, cancel and follow tasks. */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ bodyLimit: options.bodyLimit ?? 64 * 1024, logger: false });
  // Bodies are JSON: a text/plain body is a 415, not a string that fails validation.
  app.removeContentTypeParser('text/plain');
  app.setValidatorCompiler(zodValidator);

  // Which methods each path answers, for the Allow header of a 405.
  const routes: { pattern: RegExp; method: string }[] = [];
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) routes.push({ pattern: pathPattern(route.url), method });
  });

  await app.register(swagger, {
    openapi: {
      info: {
        title: 'onceflow API',
        version: '0.1.0',
        description: 'Durable AI agent tasks; every side effect once.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    },
  });

  app.addHook('onRequest', async (request, reply) => {
    // CORS preflights carry no credentials by design; the codec server answers them.
    if (!options.apiToken || request.url === '/health' || request.method === 'OPTIONS') return;
    if (request.headers.authorization !== `Bearer ${options.apiToken}`) {
      await sendError(reply, new ApiError(401, 'UNAUTHORIZED', 'Authorization: Bearer <API_TOKEN> required'));
    }
  });

  app.setErrorHandler(async (err: unknown, request, reply) => sendError(reply, toApiError(err, request)));

  app.setNotFoundHandler(async (request, reply) => {
    const path = request.url.split('?')[0] ?? '';
    const allowed = [...new Set(routes.filter((r) => r.pattern.test(path)).map((r) => r.method))].sort();
    if (allowed.length > 0) {
      void reply.header('allow', allowed.join(', '));
      return sendError(
        reply,
        new ApiError(
          405,
          'METHOD_NOT_ALLOWED',
          `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`,
        ),
      );
    }
    return sendError(reply, new ApiError(404, 'NOT_FOUND', `no route ${request.method} ${path}`));
  });

  if (options.codec) {
    await app.register(codecServer({ codec: options.codec, corsOrigin: options.corsOrigin }), {
      prefix: '/codec',
    });
  }

  app.get('/health', { schema: { hide: true } }, () => Promise.resolve({ ok: true }));
  // `/docs` as before; `/docs/json` where OpenAPI tooling looks by convention.
  for (const url of ['/docs', '/docs/json'])
    app.get(url, { schema: { hide: true } }, () => Promise.resolve(app.swagger()));

  await app.register(taskRoutes({ ...options, eventsIntervalMs: options.eventsIntervalMs }));
  return app;
}

/** Starts the API on host:port (default 127.0.0.1, ephemeral port). */
export async function startApi(options: ApiOptions & { host?: string; port?: number }) {
  const app = await buildApi(options);
  const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return { url: address, app, close: () => app.close() };
}
