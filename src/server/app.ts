/**
 * The maskbox HTTP server (fastify): routes, limits (upload size, pixel count, magic bytes, concurrency
 * with a bounded queue, per-request time), optional bearer token, CORS only when asked, JSON errors
 * without stacks, Prometheus metrics, and the OpenAPI description at /docs.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer as createHttpServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import multipart from '@fastify/multipart';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import cors from '@fastify/cors';
import { wireBackends } from '../backends/index.js';
import { InvalidArgumentError, MaskboxError, ModelError, ParseError } from '../errors.js';
import { packageRoot } from '../pipeline/defaultModel.js';
import { UploadCache } from './cache.js';
import type { ServerContext } from './context.js';
import { Gate } from './gate.js';
import { HttpError, type ErrorBody } from './httpError.js';
import { IMAGE_CONTENT_TYPES } from './input.js';
import { createMetrics } from './metrics.js';
import type { ServedDetector, ServedSegmenter } from './models.js';
import { resolveServeOptions, type ServeOptions } from './options.js';
import { imageRoutes } from './routes/images.js';
import { infoRoutes } from './routes/info.js';
import { invocationRoutes } from './routes/invocations.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Counts against the concurrency limit and queue. */
    work?: boolean;
    /** Needs no token. */
    public?: boolean;
    /** OpenAPI requestBody (documentation only). */
    body?: unknown;
  }
}

/** Models a server holds. */
export interface ServedModels {
  detectors: ServedDetector[];
  segmenters: ServedSegmenter[];
}

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(packageRoot(), 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

/** Status, code and message of any error, never a stack. */
export function errorBody(err: unknown): { status: number; body: ErrorBody; headers: Record<string, string> } {
  const make = (status: number, code: string, message: string, extra: { argument?: string } = {}) => ({
    status,
    body: { error: { statusCode: status, code, message, ...extra } },
    headers: {},
  });
  if (err instanceof HttpError) return { ...make(err.statusCode, err.code, err.message), headers: err.headers };
  if (err instanceof InvalidArgumentError) return make(400, err.code, err.message, { argument: err.argument });
  if (err instanceof ParseError) return make(422, err.code, err.message);
  if (err instanceof ModelError) return make(500, err.code, err.message);
  if (err instanceof MaskboxError) return make(500, err.code, err.message);
  const fe = err as FastifyError;
  if (fe && fe.validation) return make(400, 'ERR_VALIDATION', fe.message);
  if (fe && typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500)
    return make(fe.statusCode, fe.code ?? 'ERR_REQUEST', fe.message);
  return make(500, 'ERR_INTERNAL', 'internal error (see the server log)');
}

/**
 * Build the server (not listening yet: call `app.listen({ host, port })`, or `app.inject` in tests).
 * Closing the app does not dispose the models.
 * @throws InvalidArgumentError for bad settings
 * @example const app = await createServer({ detectors: [await ServedDetector.load('m.onnx')], segmenters: [] }, { port: 0 });
 */
export async function createServer(models: ServedModels, options: ServeOptions = {}): Promise<FastifyInstance> {
  wireBackends(); // the ops' backends, as src/index.ts and the CLI wire them
  const opts = resolveServeOptions({ pageDir: join(packageRoot(), 'dist', 'page'), ...options });
  const gate = new Gate(opts.concurrency, opts.queue);
  const cache = new UploadCache({ maxEntries: opts.cacheEntries, maxBytes: opts.cacheBytes, ttlMs: opts.cacheTtlMs });
  const ctx: ServerContext = {
    options: opts,
    detectors: models.detectors,
    segmenters: models.segmenters,
    gate,
    cache,
    metrics: createMetrics(gate, cache),
    started: new WeakMap(),
  };
  const app = Fastify({
    logger: opts.log,
    bodyLimit: opts.maxUploadBytes,
    return503OnClosing: true,
    // Node's own limits: the whole request within the time limit (slow clients get 408), headers within 20 s.
    serverFactory: (handler) =>
      createHttpServer(
        {
          requestTimeout: opts.timeoutMs,
          headersTimeout: Math.min(opts.timeoutMs, 20_000),
          connectionsCheckingInterval: Math.min(1000, opts.timeoutMs),
          keepAliveTimeout: 5000,
        },
        handler,
      ),
  });

  app.addContentTypeParser([...IMAGE_CONTENT_TYPES], { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  await app.register(multipart, {
    limits: { fileSize: opts.maxUploadBytes, files: 1, fields: 32, fieldSize: 4096, parts: 40, headerPairs: 100 },
  });
  if (opts.cors) await app.register(cors, { origin: opts.cors.includes('*') ? true : opts.cors });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'maskbox serve',
        version: version(),
        description: 'Detection, segmentation and the DBSCAN baseline over HTTP; MLflow-compatible /invocations.',
      },
      ...(opts.token
        ? {
            components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
            security: [{ bearer: [] }],
          }
        : {}),
    },
    transform: ({ schema, url, route }) => {
      const body = route.config?.body;
      return { schema: body ? ({ ...schema, body } as typeof schema) : schema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });

  app.setErrorHandler((err, req, reply) => {
    const { status, body, headers } = errorBody(err);
    if (status >= 500 && !(err instanceof HttpError)) req.log.error({ err }, 'request failed');
    return reply.code(status).headers(headers).send(body);
  });
  app.setNotFoundHandler((req, reply) =>
    reply.code(404).send({
      error: {
        statusCode: 404,
        code: 'ERR_NOT_FOUND',
        message: `no route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}`,
      },
    }),
  );

  const token = opts.token ? digest(`Bearer ${opts.token}`) : null;
  app.addHook('onRequest', async (req, reply) => {
    ctx.started.set(req, performance.now());
    const cfg = req.routeOptions.config;
    const isPublic = cfg?.public === true || req.url === '/docs' || req.url.startsWith('/docs/');
    if (token && !isPublic) {
      const given = digest(String(req.headers.authorization ?? ''));
      if (!timingSafeEqual(given, token)) {
        ctx.metrics.rejected.inc({ reason: 'unauthorized' });
        return reply
          .code(401)
          .header('www-authenticate', 'Bearer')
          .send({ error: { statusCode: 401, code: 'ERR_UNAUTHORIZED', message: 'missing or wrong bearer token' } });
      }
    }
    if (cfg?.work) {
      if (!gate.admit()) {
        ctx.metrics.rejected.inc({ reason: 'queue_full' });
        return reply
          .code(503)
          .header('retry-after', String(opts.retryAfterSeconds))
          .send({
            error: {
              statusCode: 503,
              code: 'ERR_QUEUE_FULL',
              message: `busy: ${opts.concurrency} running and ${opts.queue} queued; retry after ${opts.retryAfterSeconds} s`,
            },
          });
      }
      reply.raw.once('close', () => gate.leave());
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    const route = req.routeOptions.url ?? 'unmatched';
    ctx.metrics.requests.inc({ method: req.method, route, status: String(reply.statusCode) });
    const t0 = ctx.started.get(req);
    if (t0 !== undefined) ctx.metrics.latency.observe({ route }, (performance.now() - t0) / 1000);
  });

  infoRoutes(app, ctx, version());
  imageRoutes(app, ctx);
  invocationRoutes(app, ctx);
  app.addHook('onClose', async () => cache.clear());
  return app;
}
