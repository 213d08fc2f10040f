import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ModelError, ParseError } from '../src/errors.js';
import { MAX_IMAGE_PIXELS, readImage, type RawImage } from '../src/io/image.js';
import { Detector, type Detections } from '../src/model/detector.js';
import { fastestDetOptions, FASTESTDET_THRESHOLDS } from '../src/model/decoders/fastestdet.js';
import type { DetectorDecoder } from '../src/model/decoders/types.js';
import { inferLayout } from '../src/model/layouts.js';
import { readOnnxMetadata } from '../src/model/onnxMetadata.js';
import { defaultInferenceThreads, providerList } from '../src/model/session.js';
import { REPO, SHARED, describeShared, pngHeaderOnly } from './helpers.js';

const FIX = join(REPO, 'test/fixtures/models');
const model = (name: string) => join(FIX, `${name}.onnx`);
const golden = (name: string) => JSON.parse(readFileSync(join(REPO, 'test/goldens/models', `${name}.json`), 'utf8'));
const TMP = mkdtempSync(join(tmpdir(), 'maskbox-detector-'));

interface GoldenDet {
  boxes: number[][];
  scores: number[];
  classes: number[];
}

/** Same detections, same order: boxes within 1e-3 px (torch vs onnxruntime float32), scores within 1e-5. */
function expectDetections(got: Detections, want: GoldenDet): void {
  expect(Array.from(got.classes)).toEqual(want.classes);
  expect(got.scores.length).toBe(want.scores.length);
  got.scores.forEach((s, i) => expect(s).toBeCloseTo(want.scores[i]!, 5));
  want.boxes.forEach((b, i) => b.forEach((v, k) => expect(Math.abs(got.boxes[4 * i + k]! - v)).toBeLessThan(1e-3)));
}

function iou(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const w = Math.max(0, Math.min(a[2]!, b[2]!) - Math.max(a[0]!, b[0]!));
  const h = Math.max(0, Math.min(a[3]!, b[3]!) - Math.max(a[1]!, b[1]!));
  const inter = w * h;
  return inter / ((a[2]! - a[0]!) * (a[3]! - a[1]!) + (b[2]! - b[0]!) * (b[3]! - b[1]!) - inter);
}

const images: Record<string, RawImage> = {};
beforeAll(async () => {
  for (const n of ['wide', 'tall', 'square']) images[n] = await readImage(join(FIX, `${n}.png`));
});

describe('layout inference', () => {
  const t = (name: string, shape: (number | string)[], type = 'float32') => ({ name, type, shape });
  it('reads rows, columns and end2end from shapes and names', () => {
    expect(inferLayout([t('output', [1, 8400, 6])], 'm').layout).toBe('yolov5');
    expect(inferLayout([t('output', [1, 25200, 85])], 'm').layout).toBe('yolov5');
    expect(inferLayout([t('output0', [1, 84, 8400])], 'm').layout).toBe('yolov8');
    expect(inferLayout([t('output', ['batch', 'anchors', 85])], 'm').layout).toBe('yolov5');
    expect(inferLayout([t('output0', ['batch', 84, 'anchors'])], 'm').layout).toBe('yolov8');
    const e2e = inferLayout(
      [
        t('num_dets', [1, 1], 'int32'),
        t('det_boxes', [1, 100, 4]),
        t('det_scores', [1, 100]),
        t('det_classes', [1, 100], 'int32'),
      ],
      'm',
    );
    expect(e2e.layout).toBe('end2end');
    expect(e2e.end2end).toEqual({
      numDets: 'num_dets',
      boxes: 'det_boxes',
      scores: 'det_scores',
      classes: 'det_classes',
    });
  });
  it('refuses what it cannot tell, telling the user to pass layout or a decoder', () => {
    for (const outs of [
      [t('o', [1, 'a', 'b'])],
      [t('o', [1, 64, 64])],
      [t('o', [1, 100])],
      [t('a', [1, 84, 8400]), t('b', [1, 8400, 85])],
    ]) {
      expect(() => inferLayout(outs, 'model.onnx')).toThrow(ModelError);
      expect(() => inferLayout(outs, 'model.onnx')).toThrow(/model\.onnx.*pass `layout`.*decoder/);
    }
    expect(() => inferLayout([t('o', [1, 8400, 5])], 'm')).toThrow(/too narrow/);
  });
});

describe('Detector on tiny exported models (goldens: YOLOv5 NMS + scale_boxes in Python)', () => {
  for (const layout of ['yolov6', 'yolov5', 'yolov8'] as const) {
    it(`${layout}: infers the layout and decodes exactly`, async () => {
      const g = golden(`tiny_${layout}`);
      const det = await Detector.load(model(`tiny_${layout}`));
      expect(det.layout).toBe(layout === 'yolov8' ? 'yolov8' : 'yolov5'); // v5 and v6 rows decode alike
      expect(det.provider).toBe('cpu');
      expect(det.inputSize).toEqual([64, 64]);
      for (const name of ['wide', 'tall', 'square']) {
        const r = await det.detect(images[name]!);
        expectDetections(r, g.images[name]);
        expect(r.provider).toBe('cpu');
        for (const k of ['preprocess', 'infer', 'postprocess'] as const) expect(r.timings[k]).toBeGreaterThanOrEqual(0);
      }
      await det.dispose();
    });
  }

  it('a named layout gives the same result as the inferred one', async () => {
    const det = await Detector.load(model('tiny_yolov6'), { layout: 'yolov6' });
    expect(det.layout).toBe('yolov6');
    expectDetections(await det.detect(images.wide!), golden('tiny_yolov6').images.wide);
    await det.dispose();
    await expect(Detector.load(model('tiny_yolov6'), { layout: 'end2end' })).rejects.toThrow(/num_dets/);
  });

  it('end2end: reads num_dets and skips the padding, no second NMS', async () => {
    const g = golden('tiny_end2end');
    const det = await Detector.load(model('tiny_end2end'));
    expect(det.layout).toBe('end2end');
    for (const name of ['wide', 'tall']) {
      const r = await det.detect(images[name]!);
      expect(r.scores.length).toBe(g.images[name].numDets);
      expectDetections(r, g.images[name]);
    }
    await det.dispose();
  });

  it('dynamic input: inputSize, auto (stride) letterbox, and batches', async () => {
    const g = golden('tiny_dynamic');
    const auto = await Detector.load(model('tiny_dynamic'), { inputSize: 64, letterbox: { auto: true } });
    expect(auto.input.batch).toBeNull();
    for (const name of ['wide', 'tall']) expectDetections(await auto.detect(images[name]!), g.auto[name]);
    const mixed = await auto.detectBatch([images.wide!, images.tall!, images.wide!]); // two shapes: grouped
    expectDetections(mixed[0]!, g.auto.wide);
    expectDetections(mixed[1]!, g.auto.tall);
    expectDetections(mixed[2]!, g.auto.wide);
    await auto.dispose();

    const square = await Detector.load(model('tiny_dynamic'), { inputSize: 64, batchSize: 2 });
    const batch = await square.detectBatch([images.wide!, images.tall!, images.tall!]);
    expectDetections(batch[0]!, g.square.wide);
    expectDetections(batch[1]!, g.square.tall);
    expectDetections(batch[2]!, g.square.tall);
    expect(await square.detectBatch([])).toEqual([]);
    await square.dispose();
  });

  it('16-bit input (v * 257) decodes like the 8-bit image', async () => {
    const sq = images.square!;
    const img16 = { ...sq, data: Uint16Array.from(sq.data, (v) => v * 257), bitDepth: 16 as const };
    const det = await Detector.load(model('tiny_yolov8'));
    const want = golden('tiny_yolov8').images.square;
    const r = await det.detect(img16);
    expect(Array.from(r.classes)).toEqual(want.classes);
    want.boxes.forEach((b: number[], i: number) =>
      b.forEach((v, k) => expect(Math.abs(r.boxes[4 * i + k]! - v)).toBeLessThan(1e-2)),
    );
    await det.dispose();
  });

  it('an image decoded smaller (`source`) gives boxes in the source frame, single and batched', async () => {
    const det = await Detector.load(model('tiny_yolov8'), { intraOpNumThreads: 1, spinning: false });
    const want = golden('tiny_yolov8').images.wide;
    const wide = images.wide!;
    const half = { ...wide, source: { width: 2 * wide.width, height: 2 * wide.height } };
    const doubled = (d: Detections) => ({ ...d, boxes: d.boxes.map((v) => v / 2) });
    expectDetections(doubled(await det.detect(half)), want);
    const [a, b] = await det.detectBatch([half, wide]);
    expectDetections(doubled(a!), want);
    expectDetections(b!, want);
    await expect(det.detect({ ...wide, source: { width: 0, height: 1 } })).rejects.toMatchObject({
      argument: 'image.source.width',
    });
    await expect(det.detectBatch([wide, { ...wide, source: 'big' as never }])).rejects.toMatchObject({
      argument: 'images[1].source',
    });
    await det.dispose();
  });

  it('session threads and spinning are checked', async () => {
    await expect(Detector.load(model('tiny_yolov8'), { intraOpNumThreads: 0 })).rejects.toMatchObject({
      argument: 'intraOpNumThreads',
    });
    await expect(Detector.load(model('tiny_yolov8'), { spinning: 'no' as never })).rejects.toMatchObject({
      argument: 'spinning',
    });
    expect([1, 2, 3, 4, 16].map((c) => defaultInferenceThreads(c))).toEqual([1, 2, 2, 2, 8]);
  });

  it('options: classes filter, maxDetections, validation', async () => {
    const det = await Detector.load(model('tiny_yolov5'));
    const want = golden('tiny_yolov5').images.square as GoldenDet;
    const only1 = await det.detect(images.square!, { classes: [1] });
    const idx = want.classes.flatMap((c, i) => (c === 1 ? [i] : []));
    expectDetections(only1, {
      boxes: idx.map((i) => want.boxes[i]!),
      scores: idx.map((i) => want.scores[i]!),
      classes: idx.map(() => 1),
    });
    const top3 = await det.detect(images.square!, { maxDetections: 3 });
    expect(Array.from(top3.scores)).toEqual(Array.from((await det.detect(images.square!)).scores.slice(0, 3)));
    await expect(det.detect(images.square!, { conf: 1.5 })).rejects.toMatchObject({ argument: 'conf' });
    await expect(det.detect(images.square!, { classes: [7] })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(det.detect({ ...images.square!, width: 63 })).rejects.toBeInstanceOf(InvalidArgumentError);
    await det.dispose();
    await expect(det.detect(images.square!)).rejects.toThrow(/disposed/);
  });

  it('a custom decoder: candidates in input pixels, the detector filters, suppresses and scales', async () => {
    // YOLOv8 columns decoded by hand: the same result as the built-in decoder.
    const decoder: DetectorDecoder = (outputs, meta) => {
      const t = outputs.output0!;
      const [, k, n] = t.dims as number[];
      const d = t.data as Float32Array;
      const boxes = new Float32Array(4 * n!),
        scores = new Float32Array(n!),
        classes = new Int32Array(n!);
      for (let i = 0; i < n!; i++) {
        const at = (c: number) => d[meta.batchIndex * k! * n! + c * n! + i]!;
        const [cx, cy, w, h] = [at(0), at(1), at(2), at(3)];
        boxes.set([cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2], 4 * i);
        for (let c = 4; c < k!; c++) if (at(c) > scores[i]!) [scores[i], classes[i]] = [at(c), c - 4];
      }
      return { boxes, scores, classes };
    };
    const det = await Detector.load(model('tiny_yolov8'), { decoder });
    expect(det.layout).toBe('custom');
    expectDetections(await det.detect(images.tall!), golden('tiny_yolov8').images.tall);
    await det.dispose();
    // A model whose layout cannot be inferred still loads with a decoder.
    const flat = await Detector.load(model('flat_output'), {
      decoder: () => ({
        boxes: Float32Array.of(8, 8, 24, 40),
        scores: Float32Array.of(0.9),
        classes: Int32Array.of(0),
      }),
    });
    const r = await flat.detect(images.wide!);
    expect(Array.from(r.boxes)).toEqual([16, 0, 48, 48]); // (x - 0) / 0.5, (y - 16) / 0.5 clipped to 64
    await flat.dispose();
    const bad = await Detector.load(model('flat_output'), {
      decoder: () => ({ boxes: new Float32Array(3), scores: new Float32Array(1), classes: new Int32Array(1) }),
    });
    await expect(bad.detect(images.wide!)).rejects.toMatchObject({ argument: 'decoder().boxes' });
    await bad.dispose();
  });
});

describe('Detector load errors', () => {
  it('a model that is not a detector, or whose layout cannot be inferred', async () => {
    await expect(Detector.load(model('not_detector'))).rejects.toThrow(ModelError);
    await expect(Detector.load(model('not_detector'))).rejects.toThrow(
      /not_detector\.onnx: not an image detector: input 'images' has shape \[1,10\]/,
    );
    await expect(Detector.load(model('flat_output'))).rejects.toThrow(
      /flat_output\.onnx: cannot infer the output layout.*pass `layout`/,
    );
  });
  it('a file that is not ONNX, an empty file, a missing file', async () => {
    const txt = join(TMP, 'model.onnx');
    writeFileSync(txt, 'this is not a model');
    await expect(Detector.load(txt)).rejects.toThrow(ModelError);
    await expect(Detector.load(txt)).rejects.toThrow(
      new RegExp(`${txt.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: not an ONNX model`),
    );
    const empty = join(TMP, 'empty.onnx');
    writeFileSync(empty, '');
    await expect(Detector.load(empty)).rejects.toThrow(/empty\.onnx: empty file/);
    await expect(Detector.load(join(TMP, 'missing.onnx'))).rejects.toMatchObject({ argument: 'model' });
    await expect(Detector.load(new Uint8Array([1, 2, 3]))).rejects.toThrow(/<bytes>: not an ONNX model/);
  });
  it('options that do not fit the model', async () => {
    await expect(Detector.load(model('tiny_yolov8'), { inputSize: 640 })).rejects.toMatchObject({
      argument: 'inputSize',
    });
    await expect(Detector.load(model('tiny_yolov8'), { letterbox: { auto: true } })).rejects.toMatchObject({
      argument: 'letterbox.auto',
    });
    await expect(Detector.load(model('tiny_yolov8'), { layout: 'yolov9' as never })).rejects.toMatchObject({
      argument: 'layout',
    });
    await expect(Detector.load(model('tiny_yolov8'), { executionProviders: ['tpu' as never] })).rejects.toMatchObject({
      argument: 'executionProviders[0]',
    });
  });
});

describe('execution providers', () => {
  it('normalises the list and always ends on cpu', () => {
    expect(providerList(undefined)).toEqual(['cpu']);
    expect(providerList('cuda')).toEqual(['cuda', 'cpu']);
    expect(providerList(['webgpu', 'cuda', 'webgpu'])).toEqual(['webgpu', 'cuda', 'cpu']);
    expect(providerList(['cpu', 'cuda'])).toEqual(['cpu']);
  });
  it('falls back to cpu with one warning line and records which provider ran', async () => {
    const warnings: string[] = [];
    const det = await Detector.load(model('tiny_yolov8'), {
      executionProviders: ['cuda'],
      onWarning: (m) => warnings.push(m),
    });
    if (det.provider === 'cpu') {
      expect(warnings).toHaveLength(1);
      expect(warnings[0]).toMatch(/^execution provider 'cuda' unavailable \(.+\); falling back to 'cpu'$/);
      expect(warnings[0]).not.toContain('\n');
      expect(det.fallbacks.map((f) => f.provider)).toEqual(['cuda']);
    } else expect(warnings).toHaveLength(0);
    const r = await det.detect(images.tall!);
    expect(r.provider).toBe(det.provider);
    expectDetections(r, golden('tiny_yolov8').images.tall);
    await det.dispose();
  });
});

describe('readImage errors', () => {
  it('0-byte, non-image and truncated files are ParseErrors naming the file', async () => {
    const empty = join(TMP, 'empty.png');
    writeFileSync(empty, '');
    await expect(readImage(empty)).rejects.toThrow(ParseError);
    await expect(readImage(empty)).rejects.toThrow(/empty\.png: empty file/);
    const text = join(TMP, 'notes.jpg');
    writeFileSync(text, 'hello, not an image\n');
    await expect(readImage(text)).rejects.toThrow(/notes\.jpg: not a readable image/);
    const png = readFileSync(join(FIX, 'seg.png'));
    const cut = join(TMP, 'cut.png');
    writeFileSync(cut, png.subarray(0, Math.floor(png.length / 2)));
    await expect(readImage(cut)).rejects.toThrow(/cut\.png: cannot decode image/);
    await expect(readImage(join(TMP, 'nope.png'))).rejects.toMatchObject({ argument: 'path' });
  });
  it('a 30000x30000 image is refused from its header, before decoding', async () => {
    const huge = join(TMP, 'huge.png');
    writeFileSync(huge, pngHeaderOnly(30000, 30000));
    await expect(readImage(huge)).rejects.toThrow(InvalidArgumentError);
    await expect(readImage(huge)).rejects.toThrow(
      /huge\.png: 30000x30000 = 900000000 pixels exceeds the limit of 268402689/,
    );
    expect(MAX_IMAGE_PIXELS).toBe(268402689);
    await expect(readImage(join(FIX, 'wide.png'), { maxPixels: 1000 })).rejects.toMatchObject({ argument: 'image' });
  });
  it('resize decodes smaller (JPEG: shrink-on-load), keeping the file size in source', async () => {
    const big = await sharp({
      create: { width: 400, height: 200, channels: 3, background: { r: 30, g: 120, b: 200 } },
    })
      .composite([
        { input: { create: { width: 100, height: 100, channels: 3, background: '#fff' } }, left: 200, top: 40 },
      ])
      .jpeg({ quality: 95 })
      .toBuffer();
    const sizes: number[][] = [];
    const small = await readImage(big, {
      resize: (w, h) => (sizes.push([w, h]), { width: w / 4, height: h / 4 }),
    });
    expect(sizes).toEqual([[400, 200]]);
    expect([small.width, small.height, small.channels, small.data.length]).toEqual([100, 50, 3, 100 * 50 * 3]);
    expect(small.source).toEqual({ width: 400, height: 200 });
    // The white square lands where it should (a quarter of its place in the file), background elsewhere.
    const px = (x: number, y: number) => Array.from(small.data.subarray(3 * (y * 100 + x), 3 * (y * 100 + x) + 3));
    px(62, 22).forEach((v) => expect(v).toBeGreaterThan(240));
    px(10, 40).forEach((v, c) => expect(Math.abs(v - [30, 120, 200][c]!)).toBeLessThan(6));
    const full = await readImage(big, { resize: () => null });
    expect([full.width, full.height, full.source]).toEqual([400, 200, undefined]);
    const same = await readImage(big, { resize: (w, h) => ({ width: w, height: h }) });
    expect(same.source).toBeUndefined();
    await expect(readImage(big, { resize: () => ({ width: 0, height: 5 }) })).rejects.toMatchObject({
      argument: 'resize().width',
    });
    await expect(readImage(big, { resize: 5 as never })).rejects.toMatchObject({ argument: 'resize' });
    await expect(
      readImage(big, { resize: () => ({ width: 10, height: 5 }), resizeKernel: 'mitchell' as never }),
    ).rejects.toMatchObject({ argument: 'resizeKernel' });
    const grey16 = await sharp(Buffer.from(new Uint16Array(64 * 32).fill(40000).buffer), {
      raw: { width: 64, height: 32, channels: 1 },
    })
      .toColourspace('grey16')
      .png()
      .toBuffer();
    const g = await readImage(grey16, { resize: () => ({ width: 16, height: 8 }) });
    expect([g.bitDepth, g.channels, g.width, g.height, g.source]).toEqual([16, 1, 16, 8, { width: 64, height: 32 }]);
    expect(g.data).toBeInstanceOf(Uint16Array);
  });

  it('decodes 8-bit PNG exactly, and channels on request', async () => {
    const w = await readImage(join(FIX, 'wide.png'));
    expect([w.width, w.height, w.channels, w.bitDepth, w.data.length]).toEqual([128, 64, 3, 8, 128 * 64 * 3]);
    const g = await readImage(readFileSync(join(FIX, 'wide.png')), { channels: 1 });
    expect([g.channels, g.data.length]).toEqual([1, 128 * 64]);
  });
});

describeShared('real third-party models (../shared/models)', () => {
  /** The four persons drawn in FastestDet's result.jpg, measured from its cyan box lines. */
  const RESULT_JPG = [
    [40, 62, 177, 293],
    [159, 137, 256, 264],
    [230, 140, 323, 277],
    [288, 141, 482, 297],
  ];
  let photo: RawImage;
  beforeAll(async () => {
    photo = await readImage(join(SHARED, 'models/fastestdet/3.jpg'));
  });
  const matchAll = (r: Detections, cls: number, minIou: number) => {
    for (const ref of RESULT_JPG) {
      const best = Math.max(
        ...Array.from({ length: r.scores.length }, (_, i) =>
          r.classes[i] === cls ? iou(r.boxes.subarray(4 * i, 4 * i + 4), ref) : 0,
        ),
      );
      expect(best).toBeGreaterThan(minIou);
    }
  };

  it('FastestDet (custom grid decoder, stretch resize, BGR) finds the 4 persons of result.jpg', async () => {
    const det = await Detector.load(join(SHARED, 'models/fastestdet/FastestDet.onnx'), fastestDetOptions());
    const r = await det.detect(photo, FASTESTDET_THRESHOLDS);
    expect(Array.from(r.classes)).toEqual([0, 0, 0, 0]); // coco.names: 0 = person
    matchAll(r, 0, 0.85);
    for (const s of r.scores) expect(s).toBeGreaterThan(0.7);
    await det.dispose();
  });

  it('yolov8n-int8 (YOLOv8 layout, inferred) finds the same 4 persons, and persons on sample.png', async () => {
    const det = await Detector.load(join(SHARED, 'models/yolov8n-int8/yolov8n_int8.onnx'));
    expect(det.layout).toBe('yolov8');
    const r = await det.detect(photo);
    expect(r.classes.filter((c) => c === 0).length).toBe(4);
    matchAll(r, 0, 0.7); // another model than result.jpg's: the same persons, boxes drawn a little differently
    const sample = await det.detect(await readImage(join(SHARED, 'models/onnx-nms/sample.png')));
    expect(sample.classes.filter((c) => c === 0).length).toBeGreaterThanOrEqual(2);
    await det.dispose();
  });
});

/** A protobuf length-delimited field: key, length, bytes (lengths < 2^14 here). */
function pbField(field: number, body: Uint8Array): Uint8Array {
  const len = body.length < 128 ? [body.length] : [(body.length & 0x7f) | 0x80, body.length >> 7];
  return Uint8Array.from([(field << 3) | 2, ...len, ...body]);
}
/** ONNX bytes with `metadata_props` entries appended (protobuf merges repeated fields across the message). */
function withMetadata(bytes: Uint8Array, props: Record<string, string>): Uint8Array {
  const enc = new TextEncoder();
  const parts = Object.entries(props).map(([k, v]) =>
    pbField(14, Uint8Array.from([...pbField(1, enc.encode(k)), ...pbField(2, enc.encode(v))])),
  );
  return Uint8Array.from([...bytes, ...parts.flatMap((p) => [...p])]);
}

describe('input size chosen per frame (AutoInputSize)', () => {
  it('reads ONNX metadata_props without decoding the graph; malformed bytes give {}', () => {
    const bytes = readFileSync(join(REPO, 'models/cdv-yolov6-tiny.onnx'));
    const meta = readOnnxMetadata(bytes);
    expect(meta.layout).toBe('yolov6');
    expect(readOnnxMetadata(withMetadata(bytes, { 'maskbox.input_scale': '0.5', layout: 'x' }))).toMatchObject({
      'maskbox.input_scale': '0.5',
      layout: 'x', // a later entry wins
    });
    expect(readOnnxMetadata(bytes.subarray(0, 1000))).toEqual({}); // truncated
    expect(readOnnxMetadata(new Uint8Array([0xff, 0xff, 0xff]))).toEqual({});
    expect(readOnnxMetadata(new Uint8Array(0))).toEqual({});
  });

  it('side = ceil32(longer side x scale) clamped to [min, max]; detections equal a fixed input of that size', async () => {
    const auto = await Detector.load(model('tiny_dynamic'), { inputSize: { scale: 0.75, min: 32, max: 96 } });
    expect(auto.autoInputSize).toEqual({ scale: 0.75, min: 32, max: 96 });
    expect(auto.inputSizeFor(128, 64)).toEqual([96, 96]); // 96
    expect(auto.inputSizeFor(64, 64)).toEqual([64, 64]); // 48 -> 64
    expect(auto.inputSizeFor(10, 20)).toEqual([32, 32]); // 15 -> 32 (min)
    expect(auto.inputSizeFor(4000, 100)).toEqual([96, 96]); // max
    for (const name of ['wide', 'square']) {
      const img = images[name]!;
      const [side] = auto.inputSizeFor(img.width, img.height);
      const fixed = await Detector.load(model('tiny_dynamic'), { inputSize: side });
      const want = await fixed.detect(img, { conf: 0.01 });
      const got = await auto.detect(img, { conf: 0.01 });
      expect(Array.from(got.boxes)).toEqual(Array.from(want.boxes));
      expect(Array.from(got.scores)).toEqual(Array.from(want.scores));
      await fixed.dispose();
    }
    const batch = await auto.detectBatch([images.wide!, images.square!, images.wide!], { conf: 0.01 }); // two sizes
    expect(Array.from(batch[2]!.boxes)).toEqual(Array.from(batch[0]!.boxes));
    expect(Array.from(batch[1]!.boxes)).toEqual(Array.from((await auto.detect(images.square!, { conf: 0.01 })).boxes));
    await auto.dispose();
  });

  it("a dynamic model's metadata (maskbox.input_scale) sets the default; an explicit inputSize wins", async () => {
    const bytes = withMetadata(readFileSync(model('tiny_dynamic')), {
      'maskbox.input_scale': '0.5',
      'maskbox.input_min': '32',
      'maskbox.input_max': '64',
    });
    const det = await Detector.load(bytes);
    expect(det.autoInputSize).toEqual({ scale: 0.5, min: 32, max: 64 });
    expect(det.inputSizeFor(128, 64)).toEqual([64, 64]);
    expect(det.inputSizeFor(40, 40)).toEqual([32, 32]);
    await det.dispose();
    const fixed = await Detector.load(bytes, { inputSize: 64 });
    expect(fixed.autoInputSize).toBeNull();
    expect(fixed.inputSizeFor(128, 64)).toEqual([64, 64]);
    await fixed.dispose();
    const bad = withMetadata(readFileSync(model('tiny_dynamic')), { 'maskbox.input_scale': 'big' });
    await expect(Detector.load(bad)).rejects.toBeInstanceOf(ModelError);
  });

  it('refuses a per-frame size for a fixed-size model and malformed rules', async () => {
    await expect(Detector.load(model('tiny_yolov8'), { inputSize: { scale: 0.5 } })).rejects.toMatchObject({
      argument: 'inputSize',
    });
    for (const bad of [
      { scale: 0 },
      { scale: Number.NaN },
      { scale: 0.5, min: 33 },
      { scale: 0.5, min: 640, max: 320 },
    ])
      await expect(Detector.load(model('tiny_dynamic'), { inputSize: bad })).rejects.toBeInstanceOf(
        InvalidArgumentError,
      );
  });
});

describe('per-channel stretch of whole frames (channelStretch)', () => {
  it('comes from the metadata (maskbox.channel_stretch); explicit values and null win; bad values are typed errors', async () => {
    const bytes = withMetadata(readFileSync(model('tiny_dynamic')), { 'maskbox.channel_stretch': '1 99.99' });
    const det = await Detector.load(bytes);
    expect(det.channelStretch).toEqual([1, 99.99]);
    await det.dispose();
    const off = await Detector.load(bytes, { channelStretch: null });
    expect(off.channelStretch).toBeNull();
    await off.dispose();
    const mine = await Detector.load(bytes, { channelStretch: [0.5, 99] });
    expect(mine.channelStretch).toEqual([0.5, 99]);
    await mine.dispose();
    const pooled = await Detector.load(bytes, { percentiles: [1, 99] }); // the pooled stretch replaces the model's
    expect(pooled.channelStretch).toBeNull();
    await pooled.dispose();
    const plain = await Detector.load(model('tiny_dynamic'));
    expect(plain.channelStretch).toBeNull();
    await plain.dispose();
    for (const v of ['big', '1', '50 10', '1 101', '-1 99'])
      await expect(
        Detector.load(withMetadata(readFileSync(model('tiny_dynamic')), { 'maskbox.channel_stretch': v })),
      ).rejects.toBeInstanceOf(ModelError);
    for (const bad of [[1], [50, 10], [0, 101], [Number.NaN, 99], 'x'])
      await expect(
        Detector.load(model('tiny_dynamic'), { channelStretch: bad as unknown as [number, number] }),
      ).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(
      Detector.load(model('tiny_dynamic'), { channelStretch: [1, 99], percentiles: [1, 99] }),
    ).rejects.toMatchObject({ argument: 'channelStretch' });
    await expect(Detector.load(bytes, { resize: 'stretch' })).rejects.toMatchObject({ argument: 'channelStretch' });
  });

  it("on a 1-channel image it is the letterbox's pooled percentile stretch", async () => {
    const rgb = images.square!;
    const grey = new Uint8Array(rgb.width * rgb.height);
    for (let i = 0; i < grey.length; i++) grey[i] = rgb.data[rgb.channels * i + 1]!;
    const img = { data: grey, width: rgb.width, height: rgb.height, channels: 1 };
    const a = await Detector.load(model('tiny_dynamic'), { channelStretch: [2, 98] });
    const b = await Detector.load(model('tiny_dynamic'), { percentiles: [2, 98] });
    const da = await a.detect(img, { conf: 0.01 });
    expect(da.scores.length).toBeGreaterThan(0);
    expect(Array.from(da.boxes)).toEqual(Array.from((await b.detect(img, { conf: 0.01 })).boxes));
    await a.dispose();
    await b.dispose();
  });

  it('removes an offset and gain, and tiles use the whole frame`s levels', async () => {
    // A 16-bit frame = the 8-bit one + 100 where its 1st / 99.99th percentiles are exactly 0 and 255: stretched
    // at [1, 99.99] it is the 8-bit frame / 255 up to float rounding, in one pass and in tiles; a tile that
    // stretched itself would see other levels (only one corner holds 255s).
    const src = images.wide!;
    const n = src.width * src.height;
    const data8 = new Uint8Array(n * 3);
    for (let i = 0; i < n; i++) {
      const x = i % src.width;
      const y = Math.floor(i / src.width);
      const v = y < 12 ? 0 : x < 4 && y < 40 ? 255 : Math.min(254, src.data[src.channels * i + 1]!);
      data8.fill(v, 3 * i, 3 * i + 3);
    }
    const data16 = Uint16Array.from(data8, (v) => v + 100);
    const img8 = { data: data8, width: src.width, height: src.height, channels: 3 };
    const img16 = { data: data16, width: src.width, height: src.height, channels: 3 };
    const { channelPercentiles } = await import('../src/ops/channelPercentiles.js');
    expect(await channelPercentiles(img16, [1, 99.99])).toMatchObject({ low: [100, 100, 100], high: [355, 355, 355] });
    const plain = await Detector.load(model('tiny_dynamic'), { inputSize: 64 });
    const stretched = await Detector.load(model('tiny_dynamic'), { inputSize: 64, channelStretch: [1, 99.99] });
    for (const opts of [{}, { tile: 48, overlap: 0.25 }, { tile: 48, fullFrame: true }, { flipTta: true }]) {
      const want = await plain.detect(img8, { conf: 0.01, ...opts });
      const got = await stretched.detect(img16, { conf: 0.01, ...opts });
      expect(want.scores.length).toBeGreaterThan(0);
      expect(got.scores.length).toBe(want.scores.length);
      got.scores.forEach((s, i) => expect(s).toBeCloseTo(want.scores[i]!, 4));
      got.boxes.forEach((v, i) => expect(Math.abs(v - want.boxes[i]!)).toBeLessThan(1e-2));
    }
    await plain.dispose();
    await stretched.dispose();
  });
});
