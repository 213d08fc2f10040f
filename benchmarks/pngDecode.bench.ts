/**
 * PNG decode alone, one 2048x2048 RGB frame of `maskbox simulate cdv --format png --seed 7` (image 0):
 * readImage on the native path (into one reused buffer, as the batch runner does with reuseBuffers)
 * vs readImage on the sharp path (the default backend set to 'js'), and the native decoder called
 * directly. 21 rounds each, alternated; results in benchmarks/results/pngDecode.md.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireNative } from '../bindings/native.js';
import { setDefaultBackend } from '../src/backends/registry.js';
import { readImage } from '../src/io/image.js';
import { nativePngAvailable, pngHeader } from '../src/io/pngNative.js';
import { resolveCdvParams } from '../src/sim/cdv.js';
import { writeCdvDataset } from '../src/sim/cdvDataset.js';
import { alternate, fmtSpread, load1, methodLine, table } from './harness.js';

if (!nativePngAvailable()) throw new Error('the native PNG decoder is unavailable (build the addon)');
const dir = mkdtempSync(join(tmpdir(), 'maskbox-pngbench-'));
await writeCdvDataset(resolveCdvParams(), { n: 1, out: dir, seed: 7, format: 'png' });
const bytes = readFileSync(join(dir, 'images', 'cdv_00000.png'));
rmSync(dir, { recursive: true, force: true });
const h = pngHeader(bytes)!;
const mem = new Uint8Array(h.width * h.height * 3);
const ROUNDS = 21;
const loadStart = load1();
const rows = await alternate(
  [
    {
      name: 'readImage, native (into a reused buffer)',
      threads: 1,
      run: () => readImage(bytes, { into: () => mem }),
    },
    {
      name: 'readImage, sharp',
      threads: 1,
      run: async () => {
        setDefaultBackend('js');
        try {
          await readImage(bytes);
        } finally {
          setDefaultBackend('auto');
        }
      },
    },
    {
      name: 'addon.pngDecode alone',
      threads: 1,
      run: () =>
        requireNative().pngDecode({ bytes, out: mem, width: h.width, height: h.height, channels: 3, bitDepth: 8 }),
    },
  ],
  ROUNDS,
  2,
);
console.log(methodLine(ROUNDS));
console.log(
  `frame: ${h.width}x${h.height} RGB 8-bit, ${bytes.length} bytes; load average ${loadStart} -> ${load1()}\n`,
);
console.log(
  table(
    ['decoder', 'CPU ms', 'wall ms'],
    rows.map((r) => [r.name, fmtSpread(r.cpu), fmtSpread(r.wall)]),
  ),
);
