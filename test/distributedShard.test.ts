/**
 * `--shard I/N` on the local commands and `maskbox merge`: the merged file is byte-identical to the
 * unsplit command's output (combined CSV, COCO JSON with global image ids, submission CSV), and merge
 * refuses incomplete or mixed splits.
 */
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseShard, shardRange } from '../src/distributed/shard.js';
import { cli } from './distributedHelpers.js';
import { REPO } from './helpers.js';

const same = (a: string, b: string) => readFileSync(a).equals(readFileSync(b));

describe('--shard I/N and maskbox merge', () => {
  let dir: string;
  let images: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'maskbox-shard-'));
    expect(
      (await cli(['simulate', 'cdv', '--n', '11', '--size', '128', '--seed', '5', '--out', join(dir, 'sim')])).code,
    ).toBe(0);
    images = join(dir, 'sim', 'images');
  });

  it('parses I/N and splits into contiguous blocks that cover every input once', () => {
    expect(parseShard('2/5')).toEqual({ index: 2, count: 5 });
    for (const bad of ['5/5', '-1/3', '1/0', 'a/b', '1', '1/2/3']) expect(() => parseShard(bad)).toThrow(/--shard/);
    for (const [total, n] of [
      [11, 3],
      [2, 5],
      [0, 2],
      [100, 7],
    ] as const) {
      let next = 0;
      for (let i = 0; i < n; i++) {
        const r = shardRange(total, { index: i, count: n });
        expect(r.first).toBe(next);
        next += r.count;
      }
      expect(next).toBe(total);
    }
  });

  it('baseline combined CSV and COCO JSON: merged shards equal the unsplit run, in any argument order', async () => {
    for (const ext of ['csv', 'json']) {
      const whole = join(dir, `whole.${ext}`);
      expect((await cli(['baseline', images, '--out', whole])).code).toBe(0);
      const parts: string[] = [];
      for (let i = 0; i < 3; i++) {
        const p = join(dir, `part${i}.${ext}`);
        expect((await cli(['baseline', images, '--out', p, '--shard', `${i}/3`])).code).toBe(0);
        parts.push(p);
      }
      const merged = join(dir, `merged.${ext}`);
      const r = await cli(['merge', parts[2]!, parts[0]!, parts[1]!, '--out', merged]);
      expect(r.code).toBe(0);
      expect(same(merged, whole)).toBe(true);
      if (ext === 'json') expect(same(join(dir, 'merged.images.json'), join(dir, 'whole.images.json'))).toBe(true);
      // A missing shard, or the output given as an input, is refused and writes nothing.
      const m = await cli(['merge', parts[0]!, parts[2]!, '--out', join(dir, `bad.${ext}`)]);
      expect(m.code).toBe(2);
      expect(m.stderr).toMatch(/shard 1\/3 is missing/);
      expect(existsSync(join(dir, `bad.${ext}`))).toBe(false);
      expect((await cli(['merge', ...parts, '--out', parts[0]!])).code).toBe(2);
    }
  });

  it('detect with the model flags (--tile, --channel-stretch, --input-size, ...): merged shards equal the unsplit run', async () => {
    const model = join(REPO, 'test/fixtures/models/tiny_dynamic.onnx');
    const flags = [
      '--model',
      model,
      '--tile',
      '64',
      '--overlap',
      '0.25',
      '--channel-stretch',
      '1,99',
      '--input-size',
      '64',
    ];
    const whole = join(dir, 'det.csv');
    expect((await cli(['detect', images, ...flags, '--out', whole])).code).toBe(0);
    const parts = [0, 1].map((i) => join(dir, `det${i}.csv`));
    for (const [i, p] of parts.entries())
      expect((await cli(['detect', images, ...flags, '--out', p, '--shard', `${i}/2`])).code).toBe(0);
    expect((await cli(['merge', ...parts, '--out', join(dir, 'det-merged.csv')])).code).toBe(0);
    expect(same(join(dir, 'det-merged.csv'), whole)).toBe(true);
  });

  it('segment submission CSV: merged shards equal the unsplit run; an unsharded file is refused', async () => {
    const model = join(REPO, 'test/fixtures/models/tiny_seg_fold0.onnx');
    const whole = join(dir, 'seg.csv');
    expect((await cli(['segment', images, '--model', model, '--out', whole])).code).toBe(0);
    const parts = [0, 1].map((i) => join(dir, `seg${i}.csv`));
    for (const [i, p] of parts.entries())
      expect((await cli(['segment', images, '--model', model, '--out', p, '--shard', `${i}/2`])).code).toBe(0);
    expect((await cli(['merge', ...parts, '--out', join(dir, 'seg-merged.csv')])).code).toBe(0);
    expect(same(join(dir, 'seg-merged.csv'), whole)).toBe(true);
    const r = await cli(['merge', whole, parts[0]!, '--out', join(dir, 'x.csv')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/not the output of a --shard run/);
  });
});
