/**
 * Buffer reuse in the batch runner (`runBatch({ reuseBuffers: true })`, src/pipeline/bufferPool.ts):
 * memory is recycled, but an image is never overwritten while a sink still holds it (slow sinks while
 * later images decode), pixels equal a plain readImage, and without the option nothing is shared.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readImage } from '../src/io/image.js';
import { BufferPool } from '../src/pipeline/bufferPool.js';
import { expandInputs } from '../src/pipeline/inputs.js';
import { runBatch, type ImageJob, type Sink } from '../src/pipeline/runner.js';
import { rng } from './helpers.js';

describe('BufferPool', () => {
  it('reuses given-back memory, ignores foreign and repeated views, keeps at most maxFree', () => {
    const pool = new BufferPool(2);
    const a = pool.take(1000);
    expect(a.length).toBe(1000);
    pool.give(a);
    pool.give(a); // repeat: ignored
    pool.give(new Uint8Array(5000)); // not ours: ignored
    expect(pool.size).toBe(1);
    const b = pool.take(990); // fits in a's room
    expect(b.buffer).toBe(a.buffer);
    const c = pool.take(1100); // a's buffer has 1/8 spare room at most: 1024 < 1100 -> new
    expect(c.buffer).not.toBe(a.buffer);
    const d = pool.take(10);
    pool.give(b);
    pool.give(c);
    pool.give(d); // three free, bound 2: the smallest (d's) is dropped
    expect(pool.size).toBe(2);
    expect(pool.take(10).buffer).toBe(b.buffer); // the smallest that fits
  });
});

describe('runBatch with reuseBuffers', () => {
  let dir: string;
  const N = 12;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'maskbox-pool-'));
    const random = rng(1);
    for (let i = 0; i < N; i++) {
      const raw = new Uint8Array(48 * 40 * 3).map(() => Math.floor(random() * 256));
      const enc = sharp(raw, { raw: { width: 48, height: 40, channels: 3 } });
      writeFileSync(
        join(dir, `f${String(i).padStart(2, '0')}.${i % 4 === 3 ? 'jpg' : 'png'}`),
        await enc.toFormat(i % 4 === 3 ? 'jpeg' : 'png').toBuffer(),
      );
    }
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const hash = (d: Uint8Array | Uint16Array) =>
    createHash('sha256')
      .update(new Uint8Array(d.buffer, d.byteOffset, d.byteLength))
      .digest('hex');

  async function run(reuseBuffers: boolean) {
    const seen: { name: string; buffer: ArrayBufferLike; hash: string }[] = [];
    const late: string[] = [];
    // A slow sink: holds the image across a delay while the runner reads and decodes the next ones.
    const sink: Sink<number> = {
      async write(job: ImageJob) {
        const before = hash(job.image.data);
        await new Promise((r) => setTimeout(r, 15));
        if (hash(job.image.data) !== before) late.push(job.input.name);
        seen.push({ name: job.input.name, buffer: job.image.data.buffer, hash: before });
      },
      async close() {},
    };
    const summary = await runBatch({
      inputs: expandInputs([dir]),
      processor: {
        async process(job) {
          await new Promise((r) => setTimeout(r, 2));
          return job.image.data[0]!;
        },
      },
      sinks: [sink],
      prefetch: 3,
      progress: false,
      reuseBuffers,
    });
    return { summary, seen, late };
  }

  it('recycles memory, never under a sink that still holds the image, same pixels as readImage', async () => {
    const { summary, seen, late } = await run(true);
    expect(summary.processed).toBe(N);
    expect(late).toEqual([]);
    for (const s of seen) expect(s.hash).toBe(hash((await readImage(join(dir, s.name))).data));
    const distinct = new Set(seen.map((s) => s.buffer)).size;
    expect(distinct).toBeLessThan(N); // reused ...
    expect(distinct).toBeLessThanOrEqual(3 + 1 + 1); // ... within the window (prefetch + concurrency + one chunk)
  });

  it('off by default: every image has its own memory', async () => {
    const { seen, late } = await run(false);
    expect(late).toEqual([]);
    expect(new Set(seen.map((s) => s.buffer)).size).toBe(N);
  });
});
