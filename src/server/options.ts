/** `maskbox serve` settings, their defaults, and their checks. */
import { checkInteger, invalid } from '../validate.js';

/** Server settings. Every limit has a documented default (README, `maskbox serve --help`). */
export interface ServeOptions {
  /** Interface to bind. Default `127.0.0.1` (this machine only). */
  host?: string;
  /** TCP port; 0 picks a free one. Default 8080. */
  port?: number;
  /** Largest upload (one image, or one JSON body for /invocations) in bytes. Default 64 MiB. */
  maxUploadBytes?: number;
  /** Most pixels (width x height) of an image, checked from its header before decoding. Default 2^26 = 67,108,864 (8192 x 8192; 192 MB as RGB). */
  maxPixels?: number;
  /** Requests computing at once. Default 2. */
  concurrency?: number;
  /** Requests admitted beyond those (uploading or waiting); more get 503 + Retry-After. Default 16. */
  queue?: number;
  /** Per-request time limit, ms, from the first byte to the answer (slow uploads included). Default 60,000. */
  timeoutMs?: number;
  /** `Retry-After` seconds sent with a 503. Default 2. */
  retryAfterSeconds?: number;
  /** Required `Authorization: Bearer <token>` on everything but /v1/health, /docs and the page's static files. */
  token?: string;
  /** Allowed CORS origin(s); none (CORS off) unless given. `'*'` allows any. */
  cors?: string[];
  /** Kept raw outputs: entries, bytes, lifetime after last use (ms). Defaults 256, 256 MiB, 15 min. */
  cacheEntries?: number;
  cacheBytes?: number;
  cacheTtlMs?: number;
  /** Folder with the built page (index.html, page.js). Default `dist/page` under the package root. */
  pageDir?: string;
  /** fastify logger on stdout (JSON lines). Default false. */
  log?: boolean;
}

/** {@link ServeOptions} with the defaults applied. */
export type ResolvedServeOptions = Required<Omit<ServeOptions, 'token' | 'cors' | 'pageDir'>> &
  Pick<ServeOptions, 'token' | 'cors' | 'pageDir'>;

export const SERVE_DEFAULTS = {
  host: '127.0.0.1',
  port: 8080,
  maxUploadBytes: 64 * 1024 * 1024,
  maxPixels: 2 ** 26,
  concurrency: 2,
  queue: 16,
  timeoutMs: 60_000,
  retryAfterSeconds: 2,
  cacheEntries: 256,
  cacheBytes: 256 * 1024 * 1024,
  cacheTtlMs: 15 * 60_000,
  log: false,
} as const;

/**
 * Apply the defaults and check every setting.
 * @throws InvalidArgumentError naming the setting
 */
export function resolveServeOptions(o: ServeOptions = {}): ResolvedServeOptions {
  const r: Record<string, unknown> = {
    ...SERVE_DEFAULTS,
    ...Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)),
  };
  if (typeof r.host !== 'string' || r.host === '') invalid('host', 'an interface address', r.host);
  checkInteger('port', r.port, 0, 65535);
  checkInteger('maxUploadBytes', r.maxUploadBytes, 1);
  checkInteger('maxPixels', r.maxPixels, 1);
  checkInteger('concurrency', r.concurrency, 1, 1024);
  checkInteger('queue', r.queue, 0, 100_000);
  checkInteger('timeoutMs', r.timeoutMs, 1);
  checkInteger('retryAfterSeconds', r.retryAfterSeconds, 0);
  checkInteger('cacheEntries', r.cacheEntries, 0);
  checkInteger('cacheBytes', r.cacheBytes, 0);
  checkInteger('cacheTtlMs', r.cacheTtlMs, 1);
  if (o.token !== undefined && (typeof o.token !== 'string' || o.token.length < 8))
    invalid('token', 'a string of at least 8 characters', '(hidden)');
  if (o.cors !== undefined && (!Array.isArray(o.cors) || o.cors.some((c) => typeof c !== 'string' || c === '')))
    invalid('cors', 'a list of origins', o.cors);
  if (typeof r.log !== 'boolean') invalid('log', 'a boolean', r.log);
  return r as unknown as ResolvedServeOptions;
}
