import swagger from '@fastify/swagger';
import type { PayloadCodec } from '@temporalio/common';
import Fastify, { type FastifyInstance, type FastifyPluginAsync } from 'fastify';
import type { TaskKind, TaskRegistry, TaskService } from '../tasks/index.js';
import { StreamListener } from '../stream/listener.js';
import { TaskStream } from '../stream/store.js';
import { codecServer } from './codec-server.js';
import { operatorConsole } from './console.js';
import { ApiError, sendError, toApiError } from './errors.js';
import { taskRoutes } from './tasks.js';
import { zodValidator } from './validation.js';

/** Options of {@link onceflowApi} and {@link buildApi}. */
export interface ApiOptions extends TaskService {
  /** The kinds `POST /tasks` starts (`defineTask`, `agentTask`): the body's `kind` picks one. */
  tasks: readonly TaskKind[] | TaskRegistry;
  /** `API_TOKEN`: when set, every route but /health needs `Authorization: Bearer <token>`. */
  apiToken?: string | undefined;
  /** Largest accepted body on the API's routes; default 64 KiB. */
  bodyLimit?: number;
  /** How often a task's event stream reads its queries (status, tool calls, approvals); default 500 ms. */
  eventsIntervalMs?: number;
  /**
   * Serves the codec server at `/codec/encode` and `/codec/decode` (Web UI, `temporal` CLI) when set,
   * and opens the encrypted live events the workers' plugin wrote with the same codec.
   */
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

/**
 * The backend HTTP API as a Fastify 5 plugin: start tasks once per `Idempotency-Key`, list, describe,
 * approve, deny, cancel and follow them (SSE), `/health`, the OpenAPI document at `/docs` and, with a
 * codec, the codec server at `/codec`. Mount it in your own server, usually under a prefix:
 *
 * ```ts
 * await app.register(onceflowApi({ client, pool, taskQueue, uiUrl, tasks }), { prefix: '/agents' });
 * ```
 *
 * Everything it sets stays inside its own context: JSON-only bodies (415 otherwise), zod validation
 * (400 naming the field), the error shape `{error: {code, message}}`, 404/405 with `Allow` under its
 * prefix, and the bearer check. It owns the not-found handler of its prefix, so mount it under a
 * prefix if your server sets one at the root. With `@fastify/swagger` registered already, its routes
 * join your document and `/docs` serves that; otherwise it registers its own.
 */
export function onceflowApi(options: ApiOptions): FastifyPluginAsync {
  return async (app) => {
    const bodyLimit = options.bodyLimit ?? 64 * 1024;
    // Bodies are JSON: a text/plain body is a 415, not a string that fails validation.
    app.removeContentTypeParser('text/plain');
    app.setValidatorCompiler(zodValidator);

    // Which methods each path answers, for the Allow header of a 405; every route gets the body limit.
    const routes: { pattern: RegExp; method: string }[] = [];
    app.addHook('onRoute', (route) => {
      route.bodyLimit ??= bodyLimit;
      for (const method of [route.method].flat()) routes.push({ pattern: pathPattern(route.url), method });
    });

    if (!app.hasDecorator('swagger')) {
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
    }

    app.addHook('onRequest', async (request, reply) => {
      // CORS preflights carry no credentials by design; the codec server answers them.
      if (!options.apiToken || request.method === 'OPTIONS') return;
      if ((request.routeOptions.config as { public?: boolean } | undefined)?.public) return;
      if (request.headers.authorization !== `Bearer ${options.apiToken}`) {
        await sendError(
          reply,
          new ApiError(401, 'UNAUTHORIZED', 'Authorization: Bearer <API_TOKEN> required'),
        );
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

    app.get('/health', { schema: { hide: true }, config: { public: true } }, () =>
      Promise.resolve({ ok: true }),
    );
    // `/docs` as before; `/docs/json` where OpenAPI tooling looks by convention.
    for (const url of ['/docs', '/docs/json'])
      app.get(url, { schema: { hide: true } }, () => Promise.resolve(app.swagger()));
    // The operator console: GET /console, a page (public, no data) over the routes below.
    await app.register(operatorConsole());

    // One LISTEN connection per API instance, shared by all its event streams.
    const listener = new StreamListener(options.pool);
    app.addHook('onClose', () => listener.close());
    const stream = new TaskStream(options.pool).withCodec(options.codec);
    await app.register(taskRoutes({ ...options, live: { stream, listener } }));
  };
}

/** A Fastify server holding only {@link onceflowApi}, at the root. */
export async function buildApi(options: ApiOptions): Promise<FastifyInstance> {
  const app = Fastify({ logger: false });
  await app.register(onceflowApi(options));
  return app;
}

/** Starts {@link buildApi} on host:port (default 127.0.0.1, ephemeral port). */
export async function startApi(options: ApiOptions & { host?: string; port?: number }) {
  const app = await buildApi(options);
  const address = await app.listen({ host: options.host ?? '127.0.0.1', port: options.port ?? 0 });
  return { url: address, app, close: () => app.close() };
}
