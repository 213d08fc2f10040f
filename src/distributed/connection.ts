/**
 * The queue's address (`redis://[user:password@]host:port/db`, or `rediss://` for TLS), the names of the
 * BullMQ queues maskbox uses on it, and a fail-fast reachability check (BullMQ itself retries forever,
 * which is right for a running worker and wrong for a command that should say "unreachable" and exit).
 */
import type { RedisOptions } from 'bullmq';
import { Redis, type RedisOptions as IORedisOptions } from 'ioredis';
import { InvalidArgumentError, MaskboxError } from '../errors.js';

/** The queue is unreachable, or holds no such run, or is in a state the command cannot act on. */
export class QueueError extends MaskboxError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ERR_MASKBOX_QUEUE', message, options);
  }
}

/** Queue of per-image (or per-chunk) jobs. */
export const IMAGE_QUEUE = 'maskbox-images';
/** Queue of the parent jobs that write a run's combined outputs once every child has finished. */
export const COMBINE_QUEUE = 'maskbox-combine';

/** A parsed queue URL. */
export interface QueueAddress {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** The URL without its password, for messages and health lines. */
  display: string;
}

/**
 * Parse `redis://[user:password@]host[:port][/db]` (`rediss://` for TLS; port 6379, db 0 by default).
 * @throws InvalidArgumentError (argument `queue`) for anything else
 */
export function parseQueueUrl(url: string | undefined): QueueAddress {
  if (url === undefined || url === '')
    throw new InvalidArgumentError('queue', 'missing required flag --queue redis://HOST:PORT/DB');
  const bad = (why: string) =>
    new InvalidArgumentError('queue', `Expected a URL redis://HOST:PORT/DB for --queue but received '${url}': ${why}`);
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw bad('not a URL');
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw bad(`the scheme must be redis: or rediss:, not ${u.protocol}`);
  if (u.hostname === '') throw bad('no host');
  const port = u.port === '' ? 6379 : Number(u.port);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw bad('bad port');
  const path = u.pathname.replace(/^\/+/, '');
  if (!/^\d{0,5}$/.test(path)) throw bad(`the path must be a database number, not '/${path}'`);
  const db = path === '' ? 0 : Number(path);
  if (u.search !== '' || u.hash !== '') throw bad('no query or fragment allowed');
  const username = u.username ? decodeURIComponent(u.username) : undefined;
  const password = u.password ? decodeURIComponent(u.password) : undefined;
  const auth = username ? `${username}${password ? ':***' : ''}@` : password ? ':***@' : '';
  const host = u.hostname.replace(/^\[|\]$/g, '');
  return {
    host,
    port,
    db,
    username,
    password,
    tls: u.protocol === 'rediss:',
    display: `${u.protocol}//${auth}${u.host.includes(':') ? u.host : `${u.host}:${port}`}/${db}`,
  };
}

/**
 * ioredis options for BullMQ. `maxRetriesPerRequest: null` is what BullMQ requires of a worker's
 * connection: commands wait out a Redis restart instead of failing.
 */
export function redisOptions(a: QueueAddress, extra: RedisOptions = {}): RedisOptions {
  return {
    host: a.host,
    port: a.port,
    db: a.db,
    ...(a.username ? { username: a.username } : {}),
    ...(a.password ? { password: a.password } : {}),
    ...(a.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    // Reconnect with a capped backoff, forever (a worker outlives Redis restarts).
    retryStrategy: (times: number) => Math.min(100 * times, 2000),
    ...extra,
  };
}

/**
 * Connect once, without retries, and PING: a clear error now rather than a command that hangs.
 * Returns the connected client (the caller closes it with `quit()`).
 * @throws QueueError naming the address when Redis cannot be reached or refuses the connection
 */
export async function connectOnce(a: QueueAddress, timeoutMs = 3000): Promise<Redis> {
  const r = new Redis(
    redisOptions(a, {
      lazyConnect: true,
      connectTimeout: timeoutMs,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
      enableOfflineQueue: false,
    }) as IORedisOptions,
  );
  let lastError: { code?: string; message?: string } | undefined;
  r.on('error', (err: Error) => (lastError = err)); // reported through the rejected promise below
  try {
    await r.connect();
    await r.ping();
    return r;
  } catch (err) {
    r.disconnect();
    const e = lastError ?? (err as { code?: string; message?: string });
    throw new QueueError(`cannot reach Redis at ${a.display}: ${e.code ?? e.message ?? String(err)}`, { cause: err });
  }
}
