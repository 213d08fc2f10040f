import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { zipSync } from 'fflate';
import { beforeAll, describe, expect, it } from 'vitest';
import { InvalidArgumentError, ParseError } from '../src/errors.js';
import { countInputs, expandInputs, globToRegExp, isImageFile, type ImageInput } from '../src/pipeline/inputs.js';

async function collect(specs: string[], cwd: string): Promise<ImageInput[]> {
  const out: ImageInput[] = [];
  for await (const i of expandInputs(specs, { cwd })) out.push(i);
  return out;
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'maskbox-inputs-'));
  const files = [
    'a.png',
    'b.jpg',
    'notes.txt',
    'sub/c.TIF',
    'sub/deep/d.webp',
    'sub/deep/e.bmp',
    'sub/x1.png',
    'sub/x22.png',
    'other/f.jpeg',
  ];
  for (const f of files) {
    mkdirSync(join(dir, f, '..'), { recursive: true });
    writeFileSync(join(dir, f), `bytes of ${f}`);
  }
  const zip = zipSync({
    'imgs/one.png': new TextEncoder().encode('one'),
    'imgs/readme.md': new TextEncoder().encode('no'),
    'two.JPG': Uint8Array.of(0xff, 0xd8, 0xff, ...new TextEncoder().encode('two')), // a JPEG header, then junk
    'imgs/': new Uint8Array(0),
  });
  writeFileSync(join(dir, 'batch.zip'), zip);
  writeFileSync(join(dir, 'broken.zip'), 'not a zip');
});

describe('globToRegExp', () => {
  it('handles *, ** and ?', () => {
    expect(globToRegExp('*.png').test('a.png')).toBe(true);
    expect(globToRegExp('*.png').test('d/a.png')).toBe(false);
    expect(globToRegExp('**/*.png').test('a.png')).toBe(true);
    expect(globToRegExp('**/*.png').test('x/y/a.png')).toBe(true);
    expect(globToRegExp('x/**').test('x/y/a.png')).toBe(true);
    expect(globToRegExp('a/**/b?.tif').test('a/b1.tif')).toBe(true);
    expect(globToRegExp('a/**/b?.tif').test('a/q/r/b22.tif')).toBe(false);
    expect(globToRegExp('f(1)+[x].png').test('f(1)+[x].png')).toBe(true);
  });
  it('knows image extensions case-insensitively', () => {
    expect(isImageFile('A.TIFF')).toBe(true);
    expect(isImageFile('a.txt')).toBe(false);
  });
});

describe('expandInputs', () => {
  it('walks a directory recursively, sorted, images only, names relative', async () => {
    const names = (await collect(['.'], dir)).map((i) => i.name);
    expect(names).toEqual([
      'a.png',
      'b.jpg',
      'other/f.jpeg',
      'sub/c.TIF',
      'sub/deep/d.webp',
      'sub/deep/e.bmp',
      'sub/x1.png',
      'sub/x22.png',
    ]);
  });
  it('takes a named file whatever its extension (a non-image becomes a per-image error later)', async () => {
    const got = await collect(['notes.txt', 'sub/c.TIF'], dir);
    expect(got.map((i) => i.name)).toEqual(['notes.txt', 'c.TIF']);
    // The header is checked before the body is read.
    await expect(got[0]!.read()).rejects.toThrow(/notes\.txt: not a readable image .*does not start with the header/);
    expect(got[1]!.path).toBe(join(dir, 'sub/c.TIF'));
  });
  it('matches globs under their literal prefix', async () => {
    expect((await collect(['sub/*.png'], dir)).map((i) => i.name)).toEqual(['x1.png', 'x22.png']);
    expect((await collect(['sub/x?.png'], dir)).map((i) => i.name)).toEqual(['x1.png']);
    expect((await collect(['sub/**/*'], dir)).map((i) => i.name)).toEqual([
      'c.TIF',
      'deep/d.webp',
      'deep/e.bmp',
      'x1.png',
      'x22.png',
    ]);
    expect((await collect([join(dir, '*.png')], '/')).map((i) => i.name)).toEqual(['a.png']);
    expect(await collect(['nothing/*.png'], dir)).toEqual([]);
  });
  it('yields a file once even when several specs name it, in spec order', async () => {
    const names = (await collect(['b.jpg', '*.jpg', 'sub/x1.png', 'sub'], dir)).map((i) => i.name);
    expect(names).toEqual(['b.jpg', 'x1.png', 'c.TIF', 'deep/d.webp', 'deep/e.bmp', 'x22.png']);
  });
  it('keeps names unique: a repeated name gets a longer tail of its path', async () => {
    const names = (await collect(['sub/x1.png', 'sub/deep/d.webp', 'other', 'sub/deep', 'b.jpg', '*.jpg'], dir)).map(
      (i) => i.name,
    );
    expect(names).toEqual(['x1.png', 'd.webp', 'f.jpeg', 'e.bmp', 'b.jpg']); // same paths are yielded once
    const zipAndDir = (await collect(['batch.zip', 'sub/x1.png'], dir)).map((i) => i.name);
    expect(zipAndDir).toEqual(['imgs/one.png', 'two.JPG', 'x1.png']);
    const d2 = mkdtempSync(join(tmpdir(), 'maskbox-twins-'));
    for (const f of ['sub/x1.png', 'twin/sub/x1.png', 'a.png', 'twin/a.png']) {
      mkdirSync(join(d2, f, '..'), { recursive: true });
      writeFileSync(join(d2, f), f);
    }
    const twins = (await collect(['sub/x1.png', 'twin/sub/x1.png', 'a.png', 'twin/a.png'], d2)).map((i) => i.name);
    expect(twins).toEqual(['x1.png', 'sub/x1.png', 'a.png', 'twin/a.png']);
  });

  it('reads image entries from a zip, lazily', async () => {
    const got = await collect(['batch.zip'], dir);
    expect(got.map((i) => i.name)).toEqual(['imgs/one.png', 'two.JPG']);
    expect(got[0]!.origin).toBe(`${join(dir, 'batch.zip')}!imgs/one.png`);
    expect((await got[1]!.read()).subarray(3).toString()).toBe('two');
    expect(got[0]!.path).toBeUndefined();
  });
  it('fails clearly on a missing input; a broken zip is one failing input', async () => {
    await expect(collect(['a.png', 'missing.png'], dir)).rejects.toThrow(InvalidArgumentError);
    await expect(collect(['missing.png'], dir)).rejects.toThrow(/missing\.png/);
    await expect(collect([], dir)).rejects.toThrow(/no inputs/);
    const [broken, ...rest] = await collect(['broken.zip', 'a.png'], dir);
    expect(broken!.name).toBe('broken.zip'); // one input whose read fails: the batch records it and goes on
    await expect(broken!.read()).rejects.toThrow(ParseError);
    expect(rest.map((i) => i.name)).toEqual(['a.png']);
  });
  it('counts without reading', async () => {
    expect(await countInputs(['.', 'batch.zip'], { cwd: dir })).toBe(10);
  });
});
