/**
 * Issue 12, item by item: output names, overlays in the input folder, resume journals that lie, raw
 * crashes (deep JSON, size flags, flag ranges, --layout), unbounded reads (FIFO, /dev/zero, huge junk,
 * the read cap), silent acceptance (COCO ids, 1e999, BOM, 0x10) and SharedArrayBuffer inputs.
 */
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { describe, expect, it } from 'vitest';
import { InvalidArgumentError, ParseError } from '../src/errors.js';
import { parsePointsCsv } from '../src/cli/commands/dbscan.js';
import { parseCocoGroundTruth, readCocoGroundTruth, readCocoResults } from '../src/io/cocoJson.js';
import { CocoResultsWriter } from '../src/io/cocoResults.js';
import { COMBINED_DETECTIONS_CSV_HEADER } from '../src/io/detectionsCsv.js';
import { readRegularFile } from '../src/io/files.js';
import { parseJsonText } from '../src/io/json.js';
import { dbscanBaseline } from '../src/ops/baseline.js';
import { dbscan } from '../src/ops/dbscan.js';
import { dice } from '../src/ops/dice.js';
import { letterbox } from '../src/ops/letterbox.js';
import { encodeRle } from '../src/ops/rle.js';
import { nms } from '../src/ops/nms.js';
import { journalPath, JournaledFile, partialPath } from '../src/pipeline/journal.js';
import { availableBackends, REPO } from './helpers.js';
import { cli } from './cliRun.js';

const FIX = join(REPO, 'test/fixtures/models');
const tmp = () => mkdtempSync(join(tmpdir(), 'maskbox-hard-'));
const SQUARE = join(FIX, 'square.png');

describe('output names are unique and stable', () => {
  it('same-stem images in a folder keep their extension in output names; nothing is overwritten', async () => {
    const d = tmp();
    mkdirSync(join(d, 'in'));
    for (const f of ['a.png', 'a.jpg', 'a.tif', 'b.png']) copyFileSync(SQUARE, join(d, 'in', f));
    const r = await cli(['baseline', join(d, 'in'), '--out', join(d, 'res'), '--overlay', join(d, 'ov'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ images: 4, failed: 0 });
    expect(readdirSync(join(d, 'res')).sort()).toEqual([
      'a_jpg_result.csv',
      'a_png_result.csv',
      'a_tif_result.csv',
      'b_result.csv',
    ]);
    expect(readdirSync(join(d, 'ov')).sort()).toEqual([
      'a_jpg_overlay.png',
      'a_png_overlay.png',
      'a_tif_overlay.png',
      'b_overlay.png',
    ]);
  });

  it('zip entries x.png, ./x.png, ../x.png, a/b.png, a\\b.png give five outputs, all inside --out', async () => {
    const d = tmp();
    const png = new Uint8Array(readFileSync(SQUARE));
    writeFileSync(
      join(d, 'batch.zip'),
      zipSync({ 'x.png': png, './x.png': png, '../x.png': png, 'a/b.png': png, 'a\\b.png': png }),
    );
    mkdirSync(join(d, 'work'));
    const r = await cli(['baseline', join(d, 'batch.zip'), '--out', join(d, 'work/res'), '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ images: 5, failed: 0 });
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? files(join(dir, e.name)).map((f) => `${e.name}/${f}`) : [e.name],
      );
    expect(files(join(d, 'work/res')).sort()).toEqual([
      'a/b_result.csv',
      'a/b~2_result.csv',
      'x_result.csv',
      'x~2_result.csv',
      'x~3_result.csv',
    ]);
    expect(readdirSync(join(d, 'work'))).toEqual(['res']); // nothing written beside --out by ../x.png
  });
});

describe('overlays in the input folder', () => {
  it('an input named like an overlay is not replaced without --overwrite', async () => {
    const d = tmp();
    copyFileSync(SQUARE, join(d, 'a.png'));
    copyFileSync(join(FIX, 'wide.png'), join(d, 'a_overlay.png')); // the user's own file
    const before = readFileSync(join(d, 'a_overlay.png'));
    const r = await cli(['baseline', d, '--out', join(d, 'res'), '--overlay', d]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/a_overlay\.png already exists .*--overwrite/);
    expect(readFileSync(join(d, 'a_overlay.png')).equals(before)).toBe(true);
  });

  it('earlier overlays in the overlay folder are not read back as inputs', async () => {
    const d = tmp();
    copyFileSync(SQUARE, join(d, 'a.png'));
    const args = ['baseline', d, '--overlay', join(d, 'ov'), '--json'];
    const first = await cli([...args, '--out', join(d, 'r1')]);
    expect(JSON.parse(first.stdout)).toMatchObject({ images: 1 });
    expect(existsSync(join(d, 'ov/a_overlay.png'))).toBe(true);
    const second = await cli([...args, '--out', join(d, 'r2'), '--overwrite']);
    expect(second.code, second.stderr).toBe(0);
    expect(JSON.parse(second.stdout)).toMatchObject({ images: 1 }); // not 2: ov/a_overlay.png is no input
    expect(readdirSync(join(d, 'r2'))).toEqual(['a_result.csv']);
  });
});

describe('resume validates its journal', () => {
  const HEADER = 'image,v\n';

  async function crashed(path: string): Promise<void> {
    const f = await JournaledFile.open(path, { header: HEADER });
    await f.append('a.png', 'a.png,1\n');
    await f.append('b.png', 'b.png,2\nb.png,3\n');
    await f.append('c.png', '');
    await f.abandon();
  }
  const lines = (p: string) => readFileSync(p, 'utf8').trimEnd().split('\n');
  const rewrite = (p: string, edit: (l: string[]) => string[]) => writeFileSync(p, edit(lines(p)).join('\n') + '\n');

  it('keeps a consistent journal whole', async () => {
    const path = join(tmp(), 'out.csv');
    await crashed(path);
    const f = await JournaledFile.open(path, { header: HEADER, resume: true });
    expect(['a.png', 'b.png', 'c.png'].map((n) => f.has(n))).toEqual([true, true, true]);
    expect(f.recovery).toMatchObject({ kept: 3, discardedLines: 0 });
    await f.append('d.png', 'd.png,4\n');
    await f.close();
    expect(readFileSync(path, 'utf8')).toBe(`${HEADER}a.png,1\nb.png,2\nb.png,3\nd.png,4\n`);
    expect(existsSync(journalPath(path)) || existsSync(partialPath(path))).toBe(false);
  });

  it('an offset past the end of the file never grows it; the entry is discarded and redone', async () => {
    const path = join(tmp(), 'out.csv');
    await crashed(path);
    rewrite(journalPath(path), (l) => [l[0]!, l[1]!.replace(/"o":\d+/, '"o":100000000'), l[2]!]);
    const f = await JournaledFile.open(path, { header: HEADER, resume: true });
    expect(statSync(partialPath(path)).size).toBe(Buffer.byteLength(`${HEADER}a.png,1\n`));
    expect(f.recovery).toMatchObject({ kept: 1, discarded: ['b.png', 'c.png'], discardedLines: 2 });
    expect(f.recovery.reason).toMatch(/past the end/);
    expect([f.has('a.png'), f.has('b.png')]).toEqual([true, false]);
    await f.abandon();
  });

  it('a line naming an image that was never written is caught by the checksum chain', async () => {
    const path = join(tmp(), 'out.csv');
    await crashed(path);
    const ghost = lines(journalPath(path))[2]!.replace('c.png', 'ghost.png');
    rewrite(journalPath(path), (l) => [l[0]!, ghost, l[1]!, l[2]!]);
    const f = await JournaledFile.open(path, { header: HEADER, resume: true });
    expect(f.has('ghost.png')).toBe(false);
    expect(f.recovery).toMatchObject({ kept: 1, discarded: ['ghost.png', 'b.png', 'c.png'] });
    await f.abandon();
  });

  it('garbage, an offset of 1e400 and rows that do not match their checksum are discarded, never a crash', async () => {
    for (const edit of [
      (l: string[]) => [l[0]!, 'garbage {', l[1]!],
      (l: string[]) => [l[0]!, l[1]!.replace(/"o":\d+/, '"o":1e400')],
      (l: string[]) => [l[0]!, l[1]!.replace(/"d":"[0-9a-f]+"/, '"d":"0000000000000000"')],
    ]) {
      const path = join(tmp(), 'out.csv');
      await crashed(path);
      rewrite(journalPath(path), edit);
      const f = await JournaledFile.open(path, { header: HEADER, resume: true });
      expect(f.recovery.kept).toBe(1);
      expect(f.recovery.discardedLines).toBeGreaterThan(0);
      await f.abandon();
    }
    // The partial file's rows changed under a correct journal: the checksum of the rows catches it.
    const path = join(tmp(), 'out.csv');
    await crashed(path);
    writeFileSync(partialPath(path), readFileSync(partialPath(path), 'utf8').replace('b.png,3', 'b.png,9'));
    const f = await JournaledFile.open(path, { header: HEADER, resume: true });
    expect(f.recovery).toMatchObject({ kept: 1 });
    expect(f.recovery.reason).toMatch(/do not match their checksum/);
    await f.abandon();
  });

  it('the CLI reports what it discarded and completes the output', async () => {
    const d = tmp();
    const out = join(d, 'all.csv');
    copyFileSync(SQUARE, join(d, 'a.png'));
    copyFileSync(join(FIX, 'wide.png'), join(d, 'b.png'));
    const fresh = await cli(['baseline', join(d, 'a.png'), join(d, 'b.png'), '--out', join(d, 'fresh.csv')]);
    expect(fresh.code).toBe(0);
    const f = await JournaledFile.open(out, { header: COMBINED_DETECTIONS_CSV_HEADER + '\n' });
    await f.append('b.png', '');
    await f.abandon();
    rewrite(journalPath(out), (l) => [l[0]!.replace(/"o":\d+/, '"o":1e400')]);
    const r = await cli(['baseline', join(d, 'a.png'), join(d, 'b.png'), '--out', out, '--resume', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/resume: .*all\.csv: kept 0 journal entries, discarded 1 \(b\.png\)/);
    expect(JSON.parse(r.stdout)).toMatchObject({ images: 2, skipped: 0 });
    expect(readFileSync(out, 'utf8')).toBe(readFileSync(join(d, 'fresh.csv'), 'utf8'));
  });

  it('a garbage line in the COCO parts file is discarded and reported, not a SyntaxError', async () => {
    const path = join(tmp(), 'res.json');
    const w = await CocoResultsWriter.open(path);
    const img = (id: number) => ({ id, file_name: `i${id}.png`, width: 4, height: 4 });
    await w.add(img(1), [{ image_id: 1, category_id: 1, bbox: [0, 0, 1, 1], score: 0.5 }]);
    await w.add(img(2), []);
    await w.add(img(3), []);
    await w.abandon();
    const parts = `${path}.parts.jsonl`;
    rewrite(parts, (l) => [l[0]!, '{"image": garbage', l[1]!, l[2]!]);
    const again = await CocoResultsWriter.open(path, { resume: true });
    expect([again.has('i1.png'), again.has('i2.png'), again.has('i3.png')]).toEqual([true, false, false]);
    expect(again.notes().join()).toMatch(/kept 1 entries, discarded 3 \(line 2, i2\.png, i3\.png\)/);
    await again.add(img(2), []);
    await again.close();
    expect(JSON.parse(readFileSync(path, 'utf8'))).toHaveLength(1);
    expect(JSON.parse(readFileSync(path.replace(/json$/, 'images.json'), 'utf8')).images).toHaveLength(2);
  });
});

describe('typed errors instead of raw crashes', () => {
  it('COCO JSON nested 100,000 levels deep (ground truth or results) is a ParseError', async () => {
    const d = tmp();
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    writeFileSync(join(d, 'gt.json'), `{"images": ${deep}, "annotations": [], "categories": []}`);
    await expect(readCocoGroundTruth(join(d, 'gt.json'))).rejects.toThrow(/nested deeper than 512 levels/);
    writeFileSync(join(d, 'ok.json'), '{"images": [{"id": 1}], "annotations": [], "categories": []}');
    writeFileSync(join(d, 'dt.json'), deep);
    const gt = await readCocoGroundTruth(join(d, 'ok.json'));
    await expect(readCocoResults(join(d, 'dt.json'), gt)).rejects.toThrow(ParseError);
    const r = await cli(['eval', 'coco', '--gt', join(d, 'gt.json'), '--dt', join(d, 'dt.json')]);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toMatch(/RangeError|Maximum call stack/);
  });

  it('rle decode checks --height/--width before allocating anything', async () => {
    const base = ['rle', 'decode', '--rle', '1 2', '--out', join(tmp(), 'm.png')];
    const zero = await cli([...base, '--height', '0', '--width', '4']);
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--height/);
    for (const n of ['30000', '60000']) {
      const t0 = performance.now();
      const big = await cli([...base, '--height', n, '--width', n]);
      expect(big.code).toBe(2);
      expect(big.stderr).toMatch(/exceeds the limit/);
      expect(performance.now() - t0).toBeLessThan(2000);
    }
    expect((await cli([...base, '--height', '2.5', '--width', '4'])).stderr).toMatch(/an integer/);
  });

  it('flags are validated before any work (the model is never loaded)', async () => {
    const d = tmp();
    const run = (...flags: string[]) =>
      cli(['detect', SQUARE, '--model', join(d, 'missing.onnx'), '--out', join(d, 'r'), ...flags]);
    for (const [flag, value] of [
      ['conf', '1.5'],
      ['iou', '-0.1'],
      ['batch', '0'],
      ['max-det', '2.5'],
      ['concurrency', '0'],
      ['prefetch', '-1'],
      ['conf', '0x1'],
      ['layout', 'yolov9'],
    ] as const) {
      const r = await run(`--${flag}`, value);
      expect(r.code, `${flag} ${value}`).toBe(2);
      expect(r.stderr).toMatch(new RegExp(`--${flag}|for ${flag}`));
      expect(r.stderr).not.toMatch(/missing\.onnx/);
    }
    expect(existsSync(join(d, 'r'))).toBe(false);
  });

  it('the layout error names the --layout flag, and --layout exists', async () => {
    const d = tmp();
    const model = join(FIX, 'flat_output.onnx');
    const r = await cli(['detect', SQUARE, '--model', model, '--out', join(d, 'r')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--layout yolov5\|yolov6\|yolov8\|end2end/);
    const forced = await cli(['detect', SQUARE, '--model', model, '--out', join(d, 'r2'), '--layout', 'yolov5']);
    expect(forced.stderr).toMatch(/layout 'yolov5'/);
  });

  it('an unknown backend is refused; the summary says which backend ran', async () => {
    const d = tmp();
    writeFileSync(join(d, 'p.csv'), 'x,y\n0,0\n0,1\n5,5\n');
    const base = ['dbscan', '--points', join(d, 'p.csv'), '--eps', '1.5', '--min-samples', '2', '--json'];
    expect((await cli([...base, '--backend', 'gpu'])).code).toBe(2);
    const js = await cli([...base, '--backend', 'js']);
    expect(JSON.parse(js.stdout)).toMatchObject({ backend: 'js', clusters: 1 });
    process.env.MASKBOX_BACKEND = 'js';
    try {
      expect(JSON.parse((await cli([...base])).stdout).backend).toBe('js');
      const b = await cli(['baseline', SQUARE, '--out', join(d, 'r'), '--json']);
      expect(JSON.parse(b.stdout).backend).toBe('js');
    } finally {
      delete process.env.MASKBOX_BACKEND;
    }
    const auto = await cli(['baseline', SQUARE, '--out', join(d, 'r3'), '--json']);
    expect(JSON.parse(auto.stdout).backend).toMatch(/^auto \((cpu|js)\)$/);
    await cli(['dbscan', '--points', join(d, 'p.csv'), '--eps', '1', '--min-samples', '2', '--backend', 'auto']);
  });
});

describe('bounded reads', () => {
  it('/dev/zero, a FIFO named x.png and a directory are refused without reading', async () => {
    const d = tmp();
    execFileSync('mkfifo', [join(d, 'x.png')]);
    const t0 = performance.now();
    const r = await cli(['baseline', '/dev/zero', join(d, 'x.png'), '--out', join(d, 'r'), '--json']);
    expect(r.code).toBe(1);
    expect(performance.now() - t0).toBeLessThan(10_000);
    expect(r.stderr).toMatch(/\/dev\/zero: a character device, not a regular file/);
    expect(r.stderr).toMatch(/x\.png: a FIFO \(named pipe\), not a regular file/);
    await expect(readRegularFile(d)).rejects.toThrow(/a directory, not a regular file/);
    const p = await cli(['dbscan', '--points', join(d, 'x.png'), '--eps', '1', '--min-samples', '2']);
    expect(p.code).toBe(2);
    expect(p.stderr).toMatch(/FIFO/);
  });

  it('a 1.5 GB junk file is rejected from its header; the read cap is configurable', async () => {
    const d = tmp();
    const junk = join(d, 'junk.png');
    writeFileSync(junk, 'junk');
    truncateSync(junk, 1_500_000_000); // sparse: costs no disk
    const rss = process.memoryUsage().rss;
    const r = await cli(['baseline', junk, '--out', join(d, 'r')]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/junk\.png: 1500000000 bytes exceeds the read limit/);
    process.env.MASKBOX_MAX_READ_BYTES = String(2_000_000_000);
    try {
      const r2 = await cli(['baseline', junk, '--out', join(d, 'r2')]);
      expect(r2.stderr).toMatch(/does not start with the header/);
      process.env.MASKBOX_MAX_READ_BYTES = '100';
      const r3 = await cli(['baseline', SQUARE, '--out', join(d, 'r3')]);
      expect(r3.stderr).toMatch(/exceeds the read limit of 100 bytes/);
    } finally {
      delete process.env.MASKBOX_MAX_READ_BYTES;
    }
    expect(process.memoryUsage().rss - rss).toBeLessThan(500_000_000);
  });
});

describe('no silent acceptance', () => {
  const gt = (patch: Record<string, unknown>) => ({
    images: [{ id: 1, width: 10, height: 10 }],
    categories: [{ id: 1, name: 'a' }],
    annotations: [{ id: 1, image_id: 1, category_id: 1, bbox: [0, 0, 2, 2], area: 4 }],
    ...patch,
  });

  it('COCO ground truth: duplicate category ids, dangling image ids, ids beyond 2^53', () => {
    expect(() => parseCocoGroundTruth(gt({ categories: [{ id: 1 }, { id: 1 }] }), 'g')).toThrow(
      /categories\[1\] \(id 1\): duplicate category id 1/,
    );
    const dangling = [{ id: 1, image_id: 9, category_id: 1, bbox: [0, 0, 1, 1], area: 1 }];
    expect(() => parseCocoGroundTruth(gt({ annotations: dangling }), 'g')).toThrow(/image_id 9 is not the id/);
    const big = parseJsonText('{"images": [{"id": 18446744073709551616}], "annotations": [], "categories": []}', 'g');
    expect(() => parseCocoGroundTruth(big, 'g')).toThrow(/2\^53 - 1/);
  });

  it('1e999 is reported as a number too large, not as null', () => {
    const doc = parseJsonText(
      '{"images": [{"id": 1}], "categories": [], "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1], "area": 1e999}]}',
      'g',
    );
    expect(() => parseCocoGroundTruth(doc, 'g')).toThrow(/'area' must be a finite number, got a number too large/);
  });

  it('a UTF-8 BOM is accepted in JSON files', async () => {
    const d = tmp();
    writeFileSync(join(d, 'gt.json'), '\uFEFF' + JSON.stringify(gt({})));
    expect((await readCocoGroundTruth(join(d, 'gt.json'))).images).toHaveLength(1);
    writeFileSync(join(d, 'p.json'), '\uFEFF[[0, 0], [0, 1]]');
    const r = await cli(['dbscan', '--points', join(d, 'p.json'), '--eps', '1', '--min-samples', '2', '--json']);
    expect(JSON.parse(r.stdout).labels).toEqual([0, 0]);
  });

  it('the DBSCAN CSV reader takes decimal numbers only (0x10 is an error, not 16)', () => {
    expect(() => parsePointsCsv('x,y\n1,0x10\n', 'p.csv')).toThrow(/p\.csv:2: expected decimal numbers/);
    expect(() => parsePointsCsv('0x10,1\n', 'p.csv')).toThrow(ParseError);
    expect(Array.from(parsePointsCsv('\uFEFFx,y\n1.5,-2e1\n', 'p.csv'))).toEqual([1.5, -20]);
  });
});

describe('SharedArrayBuffer-backed typed arrays are refused with a typed error on every backend', () => {
  for (const backend of availableBackends()) {
    it(backend, async () => {
      const boxes = new Float32Array(new SharedArrayBuffer(32));
      boxes.set([0, 0, 1, 1, 0, 0, 1, 1]);
      const scores = new Float32Array([0.9, 0.8]);
      await expect(nms(boxes, scores, { iouThreshold: 0.5, backend })).rejects.toThrow(InvalidArgumentError);
      await expect(nms(boxes, scores, { iouThreshold: 0.5, backend })).rejects.toThrow(/SharedArrayBuffer/);
      const mask = new Uint8Array(new SharedArrayBuffer(16));
      await expect(encodeRle(mask, { height: 4, width: 4 }, { backend })).rejects.toThrow(/SharedArrayBuffer/);
      const shared = (n: number) => new Uint8Array(new SharedArrayBuffer(n));
      await expect(
        dice(shared(16), new Uint8Array(16), { classes: 1, height: 4, width: 4 }, { backend }),
      ).rejects.toThrow(/pred .*SharedArrayBuffer/);
      const pts = new Float64Array(new SharedArrayBuffer(32));
      await expect(dbscan(pts, { eps: 1, minSamples: 1, backend })).rejects.toThrow(/points .*SharedArrayBuffer/);
      const image = { data: shared(48), width: 4, height: 4, channels: 3 as const };
      await expect(dbscanBaseline(image, { backend })).rejects.toThrow(/image\.data .*SharedArrayBuffer/);
      await expect(letterbox(image, { size: 8, backend })).rejects.toThrow(InvalidArgumentError);
      // The same data on an ordinary buffer works.
      expect((await nms(new Float32Array(boxes), scores, { iouThreshold: 0.5, backend })).indices.length).toBe(1);
    });
  }
});
