import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { cocoImagesPath } from '../src/io/cocoResults.js';
import { formatDetectionsCsv, parseDetectionsCsv } from '../src/io/detectionsCsv.js';
import { parseYoloTxt } from '../src/io/yoloTxt.js';
import { readImage } from '../src/io/image.js';
import { toDisplay8 } from '../src/io/overlay.js';
import {
  cocoSink,
  combinedCsvSink,
  overlaySink,
  perImageCsvSink,
  safeName,
  yoloTxtSink,
  type DetectionLike,
} from '../src/pipeline/detectionSinks.js';
import { expandInputs, type ImageInput } from '../src/pipeline/inputs.js';
import { journalPath } from '../src/pipeline/journal.js';
import { detectorProcessor, type DetectorLike } from '../src/pipeline/processors.js';
import { createProgress, formatProgress, formatStages, NO_PROGRESS } from '../src/pipeline/progress.js';
import { frameSize, runBatch, type DecodedImage, type Sink } from '../src/pipeline/runner.js';
import { letterboxDecoder } from '../src/pipeline/decode.js';
import { pngHeaderOnly, rng } from './helpers.js';

function png(w: number, h: number, shade: number): Promise<Buffer> {
  return sharp({ create: { width: w, height: h, channels: 3, background: { r: shade, g: shade, b: shade } } })
    .png()
    .toBuffer();
}

/** A fake detector: boxes derived from the image size and its first pixel; optional delays and failures. */
function fakeDetector(
  opts: { delay?: () => number; failOn?: number } = {},
): DetectorLike & { calls: number; batches: number[] } {
  const det = {
    calls: 0,
    batches: [] as number[],
    async detect(image: DecodedImage): Promise<DetectionLike> {
      det.calls++;
      if (opts.delay) await new Promise((r) => setTimeout(r, opts.delay!()));
      const v = image.data[0]!;
      if (v === opts.failOn) throw new Error(`model exploded on shade ${v}`);
      const { width: w, height: h } = image;
      return {
        boxes: new Float32Array([0.5, 1.5, w / 2 + 0.5, h / 2, -3, 2, w + 4, h - 0.5]),
        scores: new Float32Array([0.9, v / 255]),
        classes: new Int32Array([0, 1]),
      };
    },
  };
  return det;
}

let dir: string;
const shades = [10, 40, 70, 100, 130, 160, 190, 220];
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'maskbox-pipeline-'));
  mkdirSync(join(dir, 'imgs/sub'), { recursive: true });
  for (const [k, s] of shades.entries())
    writeFileSync(join(dir, k < 6 ? `imgs/img${k}.png` : `imgs/sub/img${k}.png`), await png(20 + k, 16, s));
  mkdirSync(join(dir, 'bad'));
  writeFileSync(join(dir, 'bad/notes.png'), 'this is text, not a PNG');
  writeFileSync(join(dir, 'bad/empty.png'), '');
  writeFileSync(join(dir, 'bad/huge.png'), pngHeaderOnly(30000, 30000));
  writeFileSync(join(dir, 'bad/ok.png'), await png(12, 10, 50));
});

const out = (name: string) => join(dir, 'out', name);

describe('runBatch', () => {
  it('writes the lab CSV per image, in input order, whatever order inference finishes in', async () => {
    const r = rng(1);
    const det = fakeDetector({ delay: () => Math.floor(r() * 15) });
    const order: string[] = [];
    const spy: Sink<DetectionLike> = { write: async (job) => void order.push(job.input.name), close: async () => {} };
    const summary = await runBatch({
      inputs: expandInputs([join(dir, 'imgs')]),
      processor: detectorProcessor(det),
      sinks: [perImageCsvSink(out('per')), spy],
      concurrency: 3,
      prefetch: 2,
      progress: false,
    });
    expect(summary).toMatchObject({ total: 8, processed: 8, failed: 0, skipped: 0, failures: [] });
    expect(order).toEqual([
      'img0.png',
      'img1.png',
      'img2.png',
      'img3.png',
      'img4.png',
      'img5.png',
      'sub/img6.png',
      'sub/img7.png',
    ]);
    const text = readFileSync(out('per/sub/img7_result.csv'), 'utf8');
    const img = await readImage(join(dir, 'imgs/sub/img7.png'));
    expect(text).toBe(
      formatDetectionsCsv((await det.detect(img)).boxes, new Float32Array([0.9, 220 / 255]), { width: 27, height: 16 }),
    );
    expect(parseDetectionsCsv(text)[1]).toMatchObject({ x_center: 13, width: 27 }); // clipped to the image
  });

  it('records bad files and a failing model, keeps going, and reports each stage', async () => {
    const summary = await runBatch({
      inputs: expandInputs([
        join(dir, 'bad/notes.png'),
        join(dir, 'bad/empty.png'),
        join(dir, 'bad/huge.png'),
        join(dir, 'bad/ok.png'),
        join(dir, 'imgs/img2.png'),
      ]),
      processor: detectorProcessor(fakeDetector({ failOn: 70 })),
      sinks: [perImageCsvSink(out('bad'))],
      progress: false,
    });
    expect(summary).toMatchObject({ total: 5, processed: 1, failed: 4 });
    const by = Object.fromEntries(summary.failures.map((f) => [f.name, f]));
    expect(by['notes.png']).toMatchObject({ stage: 'read', code: 'ERR_MASKBOX_PARSE' });
    expect(by['empty.png']).toMatchObject({ stage: 'read', code: 'ERR_MASKBOX_PARSE' });
    expect(by['empty.png']!.message).toMatch(/0 bytes/);
    expect(by['huge.png']).toMatchObject({ stage: 'decode', code: 'ERR_MASKBOX_INVALID_ARGUMENT' });
    expect(by['huge.png']!.message).toMatch(/30000x30000/);
    expect(by['img2.png']).toMatchObject({ stage: 'process', message: 'model exploded on shade 70' });
    expect(existsSync(out('bad/ok_result.csv'))).toBe(true);
  });

  it('keeps at most concurrency*batch + prefetch images alive (memory flat in the number of images)', async () => {
    const inputs: ImageInput[] = Array.from({ length: 40 }, (_, k) => ({
      name: `i${k}.png`,
      origin: `mem:${k}`,
      read: async () => Buffer.from([k]),
    }));
    let alive = 0;
    let peak = 0;
    const r = rng(2);
    const summary = await runBatch({
      inputs,
      decode: async (b) => {
        alive++;
        peak = Math.max(peak, alive);
        await new Promise((res) => setTimeout(res, Math.floor(r() * 3)));
        return { data: new Uint8Array([b[0]!]), width: 1, height: 1, channels: 1, bitDepth: 8 };
      },
      processor: detectorProcessor(fakeDetector({ delay: () => Math.floor(r() * 5) })),
      sinks: [{ write: async () => void alive--, close: async () => {} }],
      concurrency: 2,
      prefetch: 3,
      progress: false,
    });
    expect(summary.processed).toBe(40);
    expect(peak).toBeGreaterThan(1);
    expect(peak).toBeLessThanOrEqual(2 * 1 + 3);
  });

  it('batches through detectBatch and isolates an image that breaks a batch', async () => {
    const base = fakeDetector({ failOn: 130 });
    const det = {
      ...base,
      detect: base.detect,
      detectBatch: async (imgs: DecodedImage[]) => {
        base.batches.push(imgs.length);
        return Promise.all(imgs.map((i) => base.detect(i)));
      },
    };
    const summary = await runBatch({
      inputs: expandInputs([join(dir, 'imgs')]),
      processor: detectorProcessor(det, {}, 3),
      progress: false,
    });
    expect(base.batches).toEqual([3, 3, 2]);
    expect(summary).toMatchObject({ processed: 7, failed: 1 });
    expect(summary.failures[0]!.name).toBe('img4.png');
  });
});

describe('resume', () => {
  it('skips images whose per-image outputs exist', async () => {
    const sinks = () => [perImageCsvSink(out('res')), yoloTxtSink(out('res-yolo'))];
    const run = (resume: boolean) =>
      runBatch({
        inputs: expandInputs([join(dir, 'imgs')]),
        processor: detectorProcessor(fakeDetector()),
        sinks: sinks(),
        resume,
        progress: false,
      });
    await run(false);
    rmSync(out('res/img3_result.csv'));
    rmSync(out('res-yolo/sub/img6.txt'));
    const s = await run(true);
    expect(s).toMatchObject({ total: 8, skipped: 6, processed: 2 });
    expect(existsSync(out('res/img3_result.csv'))).toBe(true);
  });

  it('continues a combined CSV cut off mid-write without duplicating rows', async () => {
    const run = async (path: string, resume: boolean, inputs: AsyncIterable<ImageInput> | ImageInput[]) =>
      runBatch({
        inputs,
        processor: detectorProcessor(fakeDetector()),
        sinks: [await combinedCsvSink(path, { resume })],
        resume,
        progress: false,
      });
    const all = join(dir, 'imgs');
    await run(out('fresh.csv'), false, expandInputs([all]));
    const fresh = readFileSync(out('fresh.csv'), 'utf8');
    expect(existsSync(journalPath(out('fresh.csv')))).toBe(false);

    // Simulate a crash: the first 3 images journalled, half a row of the 4th written, no close().
    const lines = fresh.split('\n');
    const firstThree = lines.filter((l) => /^img[012]\.png,/.test(l));
    const crashed = [lines[0], ...firstThree].join('\n') + '\n' + 'img3.png,1,2,3';
    writeFileSync(out('crash.csv'), crashed);
    const offset = Buffer.byteLength([lines[0], ...firstThree].join('\n') + '\n');
    writeFileSync(
      journalPath(out('crash.csv')),
      ['img0.png', 'img1.png', 'img2.png'].map((n) => JSON.stringify({ n, o: offset })).join('\n') + '\n{"n":"img3.p',
    );
    const s = await run(out('crash.csv'), true, expandInputs([all]));
    expect(s).toMatchObject({ skipped: 3, processed: 5 });
    expect(readFileSync(out('crash.csv'), 'utf8')).toBe(fresh);

    // Resume a finished file (no journal): images with rows are skipped, nothing is duplicated.
    const again = await run(out('fresh.csv'), true, expandInputs([all]));
    expect(again.skipped).toBe(8);
    expect(readFileSync(out('fresh.csv'), 'utf8')).toBe(fresh);
  });

  it('writes COCO results + images list, and resumes from finished files', async () => {
    const path = out('coco/res.json');
    const run = async (resume: boolean) =>
      runBatch({
        inputs: expandInputs([join(dir, 'imgs')]),
        processor: detectorProcessor(fakeDetector()),
        sinks: [await cocoSink(path, { resume })],
        resume,
        progress: false,
      });
    await run(false);
    const res = JSON.parse(readFileSync(path, 'utf8'));
    const imgs = JSON.parse(readFileSync(cocoImagesPath(path), 'utf8'));
    expect(res).toHaveLength(16);
    expect(res[0]).toEqual({ image_id: 1, category_id: 1, bbox: [0.5, 1.5, 10, 6.5], score: 0.9 });
    expect(res[1].category_id).toBe(2);
    expect(imgs.images[7]).toEqual({ id: 8, file_name: 'sub/img7.png', width: 27, height: 16 });
    expect(imgs.categories).toEqual([
      { id: 1, name: 'class0' },
      { id: 2, name: 'class1' },
    ]);
    const s = await run(true);
    expect(s.skipped).toBe(8);
    expect(JSON.parse(readFileSync(path, 'utf8'))).toEqual(res);
    expect(existsSync(`${path}.parts.jsonl`)).toBe(false);
  });
});

describe('other outputs', () => {
  it('YOLO txt round-trips through the reader', async () => {
    await runBatch({
      inputs: expandInputs([join(dir, 'imgs/img0.png')]),
      processor: detectorProcessor(fakeDetector()),
      sinks: [yoloTxtSink(out('yolo'))],
      progress: false,
    });
    const labels = parseYoloTxt(readFileSync(out('yolo/img0.txt'), 'utf8'));
    expect([...labels.classes]).toEqual([0, 1]);
    expect(labels.boxes[0]).toBeCloseTo((0.5 + 10.5) / 2 / 20, 5);
  });

  it('draws overlays as PNG of the image size, for 8- and 16-bit inputs', async () => {
    const g16 = await sharp({ create: { width: 30, height: 20, channels: 3, background: { r: 90, g: 90, b: 90 } } })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    writeFileSync(join(dir, 'bad/g16.png'), g16);
    await runBatch({
      inputs: expandInputs([join(dir, 'bad/g16.png'), join(dir, 'imgs/img1.png')]),
      processor: detectorProcessor(fakeDetector()),
      sinks: [overlaySink(out('ov'))],
      progress: false,
    });
    for (const [f, w] of [
      ['g16_overlay.png', 30],
      ['img1_overlay.png', 21],
    ] as const) {
      const meta = await sharp(out(`ov/${f}`)).metadata();
      expect(meta).toMatchObject({
        format: 'png',
        width: w,
        height: 16 + (w === 30 ? 4 : 0),
        depth: 'uchar',
        channels: 3,
      });
    }
    const g = await sharp(out('ov/g16_overlay.png')).raw().toBuffer();
    expect([...g.subarray(5 * 30 * 3, 5 * 30 * 3 + 3)]).toEqual([0, 255, 0]); // colour boxes on a grey 16-bit image
    // the box edge is drawn in green over the grey image
    const { data, info } = await sharp(out('ov/img1_overlay.png')).raw().toBuffer({ resolveWithObject: true });
    const at = (x: number, y: number) => [
      ...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3),
    ];
    expect(at(0, 5)).toEqual([0, 255, 0]); // left edge of the first box, x = 0.5 +- 0.5
    expect(at(5, 5)).toEqual([40, 40, 40]); // inside: the image itself
  });

  it('stretches pixels for display (16-bit and dim 8-bit), or keeps them', () => {
    const g16 = Uint16Array.from({ length: 1001 }, (_, i) => 1000 + i * 10);
    const d = toDisplay8(g16);
    expect([d[0], d[500], d[1000]]).toEqual([0, 128, 255]);
    const dim = toDisplay8(Uint8Array.from({ length: 5000 }, (_, i) => 5 + Math.floor(i / 1000))); // values 5..9
    expect([0, 1000, 2000, 3000, 4000].map((i) => dim[i])).toEqual([0, 64, 128, 191, 255]);
    expect(toDisplay8(Uint16Array.from([257, 514]), false)).toEqual(Uint8Array.from([1, 2]));
    expect(toDisplay8(Uint8Array.from([7, 7]))).toEqual(Uint8Array.from([7, 7]));
  });

  it('makes zip entry names safe as output paths', () => {
    expect(safeName('../../etc/passwd.png')).toBe('etc/passwd.png');
    expect(safeName('/abs//x/./y.png')).toBe('abs/x/y.png');
  });
});

describe('stage timings', () => {
  it('reports read, decode, process and write per image, CPU time and utilisation', async () => {
    const summary = await runBatch({
      inputs: expandInputs([join(dir, 'imgs')]),
      processor: detectorProcessor(fakeDetector()),
      sinks: [perImageCsvSink(out('timings'))],
      progress: false,
    });
    const t = summary.timings;
    expect(Object.keys(t.stages)).toEqual(['read', 'decode', 'process', 'write']);
    for (const v of Object.values(t.stages)) expect(v).toBeGreaterThanOrEqual(0);
    expect(t.wall).toBeCloseTo((summary.seconds * 1000) / summary.processed, 6);
    expect(t.cpu).toBeGreaterThan(0);
    expect(t.utilisation).toBeGreaterThan(0);
    expect(t.cores).toBeGreaterThanOrEqual(1);
  });

  it("puts the processor's own sub-stages in place of process, and zeros when nothing was processed", async () => {
    const det = fakeDetector();
    const timed: DetectorLike = {
      detect: async (im) => ({ ...(await det.detect(im)), timings: { preprocess: 1, infer: 2, postprocess: 3 } }),
    };
    const summary = await runBatch({
      inputs: expandInputs([join(dir, 'imgs')]),
      processor: detectorProcessor(timed),
      progress: false,
    });
    expect(Object.keys(summary.timings.stages)).toEqual([
      'read',
      'decode',
      'preprocess',
      'infer',
      'postprocess',
      'write',
    ]);
    expect(summary.timings.stages).toMatchObject({ preprocess: 1, infer: 2, postprocess: 3 });
    const none = await runBatch({ inputs: [], processor: detectorProcessor(det), progress: false });
    expect(none.timings).toMatchObject({ wall: 0, cpu: 0, utilisation: 0 });
  });

  it('shows the stage times on the progress line', async () => {
    const written: string[] = [];
    const tty = { isTTY: true, write: (s: string) => (written.push(s), true) } as unknown as NodeJS.WriteStream;
    const det = fakeDetector();
    const timed: DetectorLike = {
      detect: async (im) => ({ ...(await det.detect(im)), timings: { preprocess: 1, infer: 24, postprocess: 3 } }),
    };
    await runBatch({
      inputs: expandInputs([join(dir, 'imgs')]),
      processor: detectorProcessor(timed),
      progress: createProgress({ total: 8, stream: tty, intervalMs: 0 }),
    });
    expect(written.filter((l) => l.includes('8/8')).at(-1)).toMatch(
      /8\/8 .*img\/s  ms\/img (read \S+ )?dec \S+ pre 1\.0 inf 24 post 3\.0 wr \S+  cpu \d+%/,
    );
    const t = {
      stages: { read: 0.4, decode: 31.2, infer: 9.5, write: 2 },
      wall: 40,
      cpu: 70,
      utilisation: 0.875,
      cores: 2,
    };
    expect(formatStages(t)).toBe('ms/img dec 31 inf 9.5 wr 2.0  cpu 88%');
    expect(formatProgress(1, 2, 25, 0, 4, t)).toBe(
      '[##--]  1/2  25 img/s  ETA 1s  ms/img dec 31 inf 9.5 wr 2.0  cpu 88%',
    );
  });
});

describe('letterboxDecoder', () => {
  it("decodes at the letterbox's resized size when smaller, keeping the file size as source", async () => {
    const decode = letterboxDecoder([32, 32]);
    const input = (name: string) => ({ name, origin: name, read: async () => Buffer.alloc(0) });
    const small = await decode(await png(128, 64, 90), input('a.png'));
    expect([small.width, small.height, small.source]).toEqual([32, 16, { width: 128, height: 64 }]);
    expect(frameSize(small)).toEqual({ width: 128, height: 64 });
    const tiny = await decode(await png(20, 16, 90), input('b.png')); // smaller than the input: as it is
    expect([tiny.width, tiny.height, tiny.source]).toEqual([20, 16, undefined]);
    expect(frameSize(tiny)).toEqual({ width: 20, height: 16 });
    await expect(decode(Buffer.from('not an image'), input('c.png'))).rejects.toThrow(/c\.png: not a readable image/);
  });
});

describe('progress bar', () => {
  it('formats counts, rate, failures and ETA', () => {
    expect(formatProgress(12, 48, 3.44, 1, 8)).toBe('[##------]  12/48  3.4 img/s  1 failed  ETA 11s');
    expect(formatProgress(7, undefined, 12.3, 0)).toBe('7 images  12 img/s');
  });
  it('draws on a TTY only, on the given stream', () => {
    const written: string[] = [];
    const tty = { isTTY: true, write: (s: string) => (written.push(s), true) } as unknown as NodeJS.WriteStream;
    const p = createProgress({ total: 2, stream: tty, intervalMs: 0 });
    p.update(1, 1, 0, 500);
    p.update(2, 2, 0, 1000);
    p.finish();
    expect(written[0]).toMatch(/^\r\[#+-+\]  1\/2  2\.0 img\/s/);
    expect(written.at(-1)).toBe('\r\x1b[K');
    const pipe = { isTTY: false, write: () => true } as unknown as NodeJS.WriteStream;
    expect(createProgress({ stream: pipe })).toBe(NO_PROGRESS);
  });
});
