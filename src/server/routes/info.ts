/** /v1/health, /v1/models, /metrics, and the web page's static files (a fixed list, never a request path). */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { backends } from '../../backends/status.js';
import type { ServerContext } from '../context.js';
import { HttpError } from '../httpError.js';
import { BASELINE_NAME } from './images.js';

/** The page's files: URL -> [file in the page folder, content type]. */
export const PAGE_FILES: Record<string, [string, string]> = {
  '/': ['index.html', 'text/html; charset=utf-8'],
  '/page.js': ['page.js', 'text/javascript; charset=utf-8'],
  '/page.css': ['page.css', 'text/css; charset=utf-8'],
};

export function infoRoutes(app: FastifyInstance, ctx: ServerContext, version: string): void {
  app.get(
    '/v1/health',
    { config: { public: true }, schema: { summary: 'Liveness: always 200 while the server runs', tags: ['info'] } },
    async () => ({ status: 'ok', version, uptime_s: Math.round(process.uptime()) }),
  );

  app.get(
    '/v1/models',
    {
      schema: {
        summary: 'Models served: name, kind, layout, input size, classes, backend and execution provider',
        tags: ['info'],
      },
    },
    async () => {
      const ops = backends().map((b) => ({
        name: b.name,
        available: b.available,
        ...(b.available ? {} : { reason: b.reason }),
      }));
      return {
        models: [
          ...ctx.detectors.map((d) => d.info()),
          ...ctx.segmenters.map((s) => s.info()),
          { name: BASELINE_NAME, kind: 'baseline', classes: ['cluster'] },
        ],
        backends: ops,
        limits: {
          max_upload_bytes: ctx.options.maxUploadBytes,
          max_pixels: ctx.options.maxPixels,
          concurrency: ctx.options.concurrency,
          queue: ctx.options.queue,
          timeout_ms: ctx.options.timeoutMs,
          upload_ttl_s: ctx.cache.ttlSeconds,
        },
      };
    },
  );

  app.get(
    '/metrics',
    { schema: { summary: 'Prometheus metrics (text exposition format)', tags: ['info'] } },
    async (_req, reply) => {
      const text = await ctx.metrics.registry.metrics();
      return reply.type(ctx.metrics.registry.contentType).send(text);
    },
  );

  for (const [url, [file, type]] of Object.entries(PAGE_FILES)) {
    app.get(url, { config: { public: true }, schema: { hide: true } }, async (_req, reply) => {
      const dir = ctx.options.pageDir;
      let body: Buffer;
      try {
        if (!dir) throw new Error('no page folder');
        body = await readFile(join(dir, file));
      } catch {
        throw new HttpError(503, 'ERR_PAGE_NOT_BUILT', 'the web page is not built: run `npm run build:page`');
      }
      return reply.type(type).header('cache-control', 'no-cache').send(body);
    });
  }
}
