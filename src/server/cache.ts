/**
 * The upload cache: raw model outputs kept by upload id, so that new `conf`/`iou` settings re-run only
 * the post-processing. Bounded in entries and bytes (least recently used evicted first) and in time
 * (an entry expires `ttlMs` after its last use).
 */
import { randomBytes } from 'node:crypto';
import type { RawOutput } from './raw.js';

/** What is kept per upload. */
export interface CachedUpload {
  id: string;
  model: string;
  /** Sanitised image name (never a path on this machine). */
  name: string;
  width: number;
  height: number;
  raw: RawOutput;
}

export interface UploadCacheOptions {
  /** Entries at most. */
  maxEntries: number;
  /** Bytes of raw outputs at most. */
  maxBytes: number;
  /** Lifetime after last use, ms. */
  ttlMs: number;
  /** Clock (ms), for tests. Default `Date.now`. */
  now?: () => number;
}

export class UploadCache {
  private readonly entries = new Map<string, { upload: CachedUpload; expires: number }>();
  private bytes = 0;
  private readonly now: () => number;

  constructor(private readonly options: UploadCacheOptions) {
    this.now = options.now ?? Date.now;
  }

  /** Ids are 128 random bits, hex: not guessable, never a path. */
  static newId(): string {
    return randomBytes(16).toString('hex');
  }

  /** Keep an upload; returns its id, or null when it alone exceeds `maxBytes`. */
  put(upload: Omit<CachedUpload, 'id'>): string | null {
    const size = upload.raw.data.byteLength;
    if (size > this.options.maxBytes || this.options.maxEntries < 1) return null;
    this.sweep();
    while (this.entries.size >= this.options.maxEntries || this.bytes + size > this.options.maxBytes) {
      const oldest = this.entries.keys().next().value as string;
      this.remove(oldest);
    }
    const id = UploadCache.newId();
    this.entries.set(id, { upload: { ...upload, id }, expires: this.now() + this.options.ttlMs });
    this.bytes += size;
    return id;
  }

  /** The upload, refreshed as most recently used; undefined when unknown or expired. */
  get(id: string): CachedUpload | undefined {
    const e = this.entries.get(id);
    if (!e) return undefined;
    if (e.expires <= this.now()) {
      this.remove(id);
      return undefined;
    }
    this.entries.delete(id);
    e.expires = this.now() + this.options.ttlMs;
    this.entries.set(id, e);
    return e.upload;
  }

  /** Seconds an entry lives after its last use. */
  get ttlSeconds(): number {
    return Math.round(this.options.ttlMs / 1000);
  }

  get size(): number {
    return this.entries.size;
  }

  get byteSize(): number {
    return this.bytes;
  }

  /** Drop expired entries. */
  sweep(): void {
    const t = this.now();
    for (const [id, e] of this.entries) if (e.expires <= t) this.remove(id);
  }

  clear(): void {
    this.entries.clear();
    this.bytes = 0;
  }

  private remove(id: string): void {
    const e = this.entries.get(id);
    if (!e) return;
    this.entries.delete(id);
    this.bytes -= e.upload.raw.data.byteLength;
  }
}
