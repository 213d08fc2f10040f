import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { cli } from './cliRun.js';
import { planOutput } from '../src/cli/detectionCli.js';
import { detectionsToRows, parseDetectionsCsv } from '../src/io/detectionsCsv.js';
import { dbscanBaseline } from '../src/ops/baseline.js';
import { readSubmissionCsv } from '../src/io/submissionCsv.js';
import { defaultModelPath } from '../src/pipeline/defaultModel.js';
import { REPO } from './helpers.js';

const FIX = join(REPO, 'test/fixtures/models');
const TINY = join(FIX, 'tiny_yolov6.onnx');
const tmp = () => mkdtempSync(join(tmpdir(), 'maskbox-cli-'));

interface DetGolden {
  images: Record<string, { boxes: number[][]; scores: number[] }>;
}
const golden = JSON.parse(readFileSync(join(REPO, 'test/goldens/models/tiny_yolov6.json'), 'utf8')) as DetGolden;

/** The CSV equals the lab rule applied to the Python oracle's boxes, up to 1 px where ORT and torch round differently. */
function expectMatchesGolden(csvPath: string, name: string): void {
  const g = golden.images[name]!;
  const want = detectionsToRows(Float32Array.from(g.boxes.flat()), Float32Array.from(g.scores));
  const got = parseDetectionsCsv(readFileSync(csvPath, 'utf8'), csvPath);
  expect(got.length).toBe(want.length);
  got.forEach((r, i) => {
    const w = want[i]!;
    for (const k of ['x_center', 'y_center', 'width', 'height'] as const)
      expect(Math.abs(r[k] - w[k])).toBeLessThanOrEqual(1);
    expect(r.confidence).toBeCloseTo(w.confidence, 5);
  });
}

describe('maskbox detect', () => {
  it('prints its usage with --help', async () => {
    const r = await cli(['detect', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/--model M\.onnx/);
    expect((await cli(['--help'])).stdout).toMatch(/detect .*segment|segment[\s\S]*ensemble/);
  });

  it('writes the lab CSV per image and overlays, matching the Python oracle', async () => {
    const d = tmp();
    const r = await cli([
      'detect',
      join(FIX, 'wide.png'),
      join(FIX, 'square.png'),
      '--model',
      TINY,
      '--out',
      join(d, 'res'),
      '--overlay',
      join(d, 'ov'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    const s = JSON.parse(r.stdout);
    const n = golden.images.wide!.scores.length + golden.images.square!.scores.length;
    expect(s).toMatchObject({ images: 2, failed: 0, skipped: 0, detections: n, provider: 'cpu' });
    expectMatchesGolden(join(d, 'res/wide_result.csv'), 'wide');
    expectMatchesGolden(join(d, 'res/square_result.csv'), 'square');
    expect(existsSync(join(d, 'ov/wide_overlay.png'))).toBe(true);
  });

  it('records a bad file, writes the others, and exits 1', async () => {
    const d = tmp();
    mkdirSync(join(d, 'in'));
    copyFileSync(join(FIX, 'square.png'), join(d, 'in/a.png'));
    writeFileSync(join(d, 'in/b.png'), 'not an image');
    writeFileSync(join(d, 'in/c.jpg'), '');
    const r = await cli(['detect', join(d, 'in'), '--model', TINY, '--out', join(d, 'res')]);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/failed\s+2/);
    expect(r.stderr).toMatch(/2 image\(s\) failed/);
    expect(r.stderr).toMatch(/b\.png: not a readable image/);
    expect(r.stderr).toMatch(/c\.jpg: empty file/);
    expectMatchesGolden(join(d, 'res/a_result.csv'), 'square');
  });

  it('writes one combined CSV and resumes it', async () => {
    const d = tmp();
    const out = join(d, 'all.csv');
    const args = ['detect', join(FIX, 'wide.png'), join(FIX, 'square.png'), '--model', TINY, '--out', out, '--json'];
    expect((await cli(args)).code).toBe(0);
    const first = readFileSync(out, 'utf8');
    expect(first.split('\n')[0]).toBe('image,x_center,y_center,width,height,confidence,area');
    expect(new Set(parseDetectionsCsv(first).map((x) => x.image))).toEqual(new Set(['wide.png', 'square.png']));
    const again = await cli([...args, '--resume']);
    expect(JSON.parse(again.stdout)).toMatchObject({ images: 0, skipped: 2 });
    expect(readFileSync(out, 'utf8')).toBe(first);
  });

  it('--channel-stretch LO,HI|none: shown in the summary, bad values are usage errors', async () => {
    const stretch = (value: string, ...more: string[]) =>
      cli(['detect', join(FIX, 'wide.png'), '--model', TINY, '--out', tmp(), ...more, '--channel-stretch', value]);
    const on = await stretch('1,99', '--json');
    expect(on.code).toBe(0);
    expect(JSON.parse(on.stdout)).toMatchObject({ images: 1, 'channel stretch': '1..99 %' });
    const off = await stretch('none', '--json');
    expect(off.code).toBe(0);
    expect(JSON.parse(off.stdout)['channel stretch']).toBeUndefined();
    for (const bad of ['99,1', '1', '1,2,3', 'a,b', '-1,50', '1,101']) {
      const e = await stretch(bad);
      expect(e.code).toBe(2);
      expect(e.stderr).toMatch(/--channel-stretch|channel-stretch/);
    }
  });

  it('reports stage timings in --json; --threads and --fast-decode are checked', async () => {
    const d = tmp();
    const r = await cli(['detect', join(FIX, 'wide.png'), '--model', TINY, '--out', d, '--json', '--threads', '1']);
    expect(r.code).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(Object.keys(j.timings.stages)).toEqual(['read', 'decode', 'preprocess', 'infer', 'postprocess', 'write']);
    for (const k of ['wall', 'cpu', 'utilisation', 'cores']) expect(typeof j.timings[k]).toBe('number');
    expect(j.threads).toBe(1);
    const table = await cli(['detect', join(FIX, 'wide.png'), '--model', TINY, '--out', tmp()]);
    expect(table.stdout).toMatch(/time +ms\/img .*dec .*inf .*cpu \d+%/);
    const fast = await cli([
      'detect',
      join(FIX, 'wide.png'),
      '--model',
      TINY,
      '--out',
      tmp(),
      '--json',
      '--fast-decode',
    ]);
    expect(fast.code).toBe(0);
    expect(JSON.parse(fast.stdout)).toMatchObject({ images: 1, 'fast decode': 'true' });
    for (const bad of [
      ['--threads', '0'],
      ['--fast-decode', '--tile', '64'],
      ['--fast-decode', '--overlay', tmp()],
    ]) {
      const e = await cli(['detect', join(FIX, 'wide.png'), '--model', TINY, '--out', tmp(), ...bad]);
      expect(e.code).toBe(2);
      expect(e.stderr).toMatch(
        bad[0] === '--threads' ? /--threads/ : /--fast-decode .*cannot be combined with --(tile|overlay)/,
      );
    }
  });

  it('writes COCO results with --format coco', async () => {
    const d = tmp();
    const r = await cli(['detect', join(FIX, 'square.png'), '--model', TINY, '--format', 'coco', '--out', d]);
    expect(r.code).toBe(0);
    const res = JSON.parse(readFileSync(join(d, 'results.json'), 'utf8'));
    expect(res).toHaveLength(golden.images.square!.scores.length);
    expect(res[0]).toMatchObject({ image_id: 1, category_id: 1 });
  });

  it('gives clear errors for bad arguments and models', async () => {
    const missing = await cli(['detect', 'no/such/file.png', '--model', TINY]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file or directory: 'no\/such\/file\.png'/);
    expect((await cli(['detect', join(FIX, 'square.png'), '--model', TINY, '--format', 'pdf'])).stderr).toMatch(
      /--format/,
    );
    expect((await cli(['detect', join(FIX, 'square.png'), '--bogus'])).code).toBe(2);
    expect((await cli(['detect', '--model', TINY])).stderr).toMatch(/no inputs/);
    const notDet = await cli(['detect', join(FIX, 'square.png'), '--model', join(FIX, 'not_detector.onnx')]);
    expect(notDet.code).toBe(1);
    expect(notDet.stderr).toMatch(/not_detector\.onnx/);
    const d = tmp();
    const empty = await cli(['detect', d, '--model', TINY]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toMatch(/no images found/);
  });

  it('plans outputs from --out and --format', () => {
    expect(planOutput(undefined, undefined)).toEqual({ kind: 'csv', path: 'results' });
    expect(planOutput('a.csv', undefined)).toEqual({ kind: 'csv-combined', path: 'a.csv' });
    expect(planOutput('a.json', undefined)).toEqual({ kind: 'coco', path: 'a.json' });
    expect(planOutput('d', 'yolo')).toEqual({ kind: 'yolo', path: 'd' });
    expect(planOutput('d', 'coco')).toEqual({ kind: 'coco', path: join('d', 'results.json') });
    expect(() => planOutput('a.csv', 'coco')).toThrow(/--format/);
  });
});

describe('maskbox baseline', () => {
  it('writes the same outputs as detect, from the DBSCAN baseline with the library defaults', async () => {
    const d = tmp();
    const px = new Uint8Array(64 * 48);
    const blobs: [number, number][] = [
      [10, 10],
      [40, 30],
    ];
    for (const [x0, y0] of blobs) for (let y = y0; y < y0 + 5; y++) px.fill(255, y * 64 + x0, y * 64 + x0 + 5);
    await sharp(px, { raw: { width: 64, height: 48, channels: 1 } })
      .png()
      .toFile(join(d, 'blobs.png'));
    const r = await cli([
      'baseline',
      join(d, 'blobs.png'),
      '--out',
      join(d, 'all.csv'),
      '--overlay',
      join(d, 'ov'),
      '--json',
    ]);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ images: 1, detections: 2, detector: 'dbscan-baseline' });
    // scale 'unit' (as the library): each 5x5 blob stays 5x5; box [min, max+1]; score 25 / (25 + 100) as float32
    expect(readFileSync(join(d, 'all.csv'), 'utf8')).toBe(
      'image,x_center,y_center,width,height,confidence,area\nblobs.png,12,12,5,5,0.20000000298023224,25\nblobs.png,42,32,5,5,0.20000000298023224,25\n',
    );
    // the library and the CLI agree box for box
    const lib = await dbscanBaseline({ data: px, width: 64, height: 48, channels: 1 });
    expect(Array.from(lib.boxes)).toEqual([10, 10, 15, 15, 40, 30, 45, 35]);
    expect(existsSync(join(d, 'ov/blobs_overlay.png'))).toBe(true);
    expect((await cli(['baseline', join(d, 'blobs.png'), '--box', 'square'])).code).toBe(2);
  });
});

describe('maskbox segment and ensemble', () => {
  const seg = JSON.parse(readFileSync(join(REPO, 'test/goldens/models/tiny_seg.json'), 'utf8')) as {
    cases: Record<string, { rle: string[] }>;
  };

  it('writes the submission CSV of a flip-TTA ensemble (Python oracle), then hard-votes three CSVs', async () => {
    const d = tmp();
    const models = ['--model', join(FIX, 'tiny_seg_fold0.onnx'), '--model', join(FIX, 'tiny_seg_fold1.onnx')];
    const r = await cli(['segment', join(FIX, 'seg.png'), ...models, '--tta', '--out', join(d, 'a.csv')]);
    expect(r.code).toBe(0);
    const rows = await readSubmissionCsv(join(d, 'a.csv'));
    expect(rows.map((x) => x.image_name)).toEqual(Array(rows.length).fill('seg.png'));
    const want = seg.cases.ensemble_flip!.rle;
    expect(rows.length).toBe(want.length);
    const same = rows.filter((x, i) => x.rle === want[i]).length;
    expect(same).toBeGreaterThanOrEqual(want.length - 1); // ties within float error of 0.5 may flip a pixel

    expect((await cli(['segment', join(FIX, 'seg.png'), models[0]!, models[1]!, '--out', join(d, 'b.csv')])).code).toBe(
      0,
    );
    copyFileSync(join(d, 'a.csv'), join(d, 'c.csv'));
    const v = await cli([
      'ensemble',
      join(d, 'a.csv'),
      join(d, 'b.csv'),
      join(d, 'c.csv'),
      '--out',
      join(d, 'v.csv'),
      '--height',
      '64',
      '--width',
      '64',
      '--json',
    ]);
    expect(v.code).toBe(0);
    expect(JSON.parse(v.stdout)).toMatchObject({ rows: want.length, minVotes: 2 });
    expect(readFileSync(join(d, 'v.csv'), 'utf8')).toBe(readFileSync(join(d, 'a.csv'), 'utf8')); // a = c: the majority
  });

  it('resumes a submission CSV', async () => {
    const d = tmp();
    const args = [
      'segment',
      join(FIX, 'seg.png'),
      '--model',
      join(FIX, 'tiny_seg_fold0.onnx'),
      '--out',
      join(d, 's.csv'),
      '--json',
    ];
    expect((await cli(args)).code).toBe(0);
    const first = readFileSync(join(d, 's.csv'), 'utf8');
    const r = await cli([...args.slice(0, 2), join(FIX, 'square.png'), ...args.slice(2), '--resume']);
    expect(JSON.parse(r.stdout)).toMatchObject({ images: 1, skipped: 1 });
    const rows = await readSubmissionCsv(join(d, 's.csv'));
    expect(rows.length).toBe(2 * 29);
    expect(readFileSync(join(d, 's.csv'), 'utf8').startsWith(first)).toBe(true);
  });

  it('needs --model and --out, and two CSVs to vote', async () => {
    expect((await cli(['segment', join(FIX, 'seg.png'), '--out', 'x.csv'])).stderr).toMatch(/--model/);
    expect((await cli(['segment', join(FIX, 'seg.png'), '--model', 'm.onnx'])).stderr).toMatch(/--out/);
    expect((await cli(['ensemble', 'a.csv', '--out', 'v.csv'])).code).toBe(2);
  });
});

const BUNDLED = defaultModelPath();
const bundled = existsSync(BUNDLED);
(bundled ? describe : describe.skip)(
  bundled
    ? 'bundled model (integration)'
    : `bundled model (integration) (skipped: ${BUNDLED} not found — not trained yet)`,
  () => {
    it('detects vesicles in the README sample with the default model', async () => {
      const d = tmp();
      const r = await cli([
        'detect',
        join(REPO, 'samples/cdv/images'),
        '--out',
        join(d, 'res'),
        '--overlay',
        join(d, 'ov'),
        '--json',
      ]);
      expect(r.code).toBe(0);
      const s = JSON.parse(r.stdout);
      expect(s.images).toBeGreaterThan(0);
      expect(s.detections).toBeGreaterThan(0);
      expect(s.model).toBe(BUNDLED);
    });
  },
);
