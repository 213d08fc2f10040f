/**
 * DBSCAN (eps 3, min_samples 2) on pixel-like points: the on-pixels of random round blobs (radius
 * 2..10, 70 % filled) in raster order, at two covers of a frame: sparse (5 % of a 2048² frame, as
 * real CDV frames) and dense (25 % of a 1024² frame); and the DBSCAN baseline detector on one
 * synthetic 2048x2048 vesicle image. Backends: js (TypeScript reference, one thread) and cpu (native
 * addon, its pool's threads). Peers, run here: scikit-learn 1.2 (Debian's /usr/bin/python3) with
 * n_jobs = the cpu backend's thread count, and the lab's torch conv2d + sklearn pipeline. Outputs are
 * checked identical (cpu vs js vs the peer) in the same run before timing; then every side is timed
 * alternately, round by round (harness.alternate; the Python peers stay in one process each and time
 * themselves: wall and process CPU time).
 * Run: npx tsx benchmarks/dbscan.bench.ts [--rounds 7] [--no-python] [--no-js]
 * (MASKBOX_THREADS=1 for the native kernels on one thread: sklearn then gets n_jobs=1 too.)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dbscan } from '../src/ops/dbscan.js';
import { dbscanBaseline } from '../src/ops/baseline.js';
import { backendStatus } from '../src/backends/registry.js';
import { ensureBackends } from '../src/backends/index.js';
import { alternate, fmtSpread, load1, methodLine, PythonPeer, table, type Impl, type Measured } from './harness.js';
import { nativeStatus } from '../bindings/native.js';
import { rng } from '../test/helpers.js';

const { values } = parseArgs({
  options: {
    rounds: { type: 'string' },
    'no-python': { type: 'boolean' },
    'no-js': { type: 'boolean' },
  },
});
const ROUNDS = Number(values.rounds ?? 7);
const PY = !values['no-python'];
const JS = !values['no-js'];
ensureBackends();
const cpu = backendStatus('cpu');
if (!cpu.available) console.error(`cpu backend unavailable (${cpu.reason}): js rows only`);
const CPU = cpu.available;
/** Threads on each side: the cpu backend's pool budget; scikit-learn gets the same n_jobs. */
const THREADS = CPU ? (nativeStatus().info?.threads ?? 1) : 1;
const loadStart = load1();

/** On-pixels of random blobs (radius 2..10, 70 % filled) until `cover` of a side x side frame is set, raster order. */
function pixelPoints(side: number, cover: number, seed: number): Float64Array {
  const r = rng(seed);
  const mask = new Uint8Array(side * side);
  const target = cover * side * side;
  let on = 0;
  while (on < target) {
    const cx = r() * side,
      cy = r() * side,
      rad = 2 + r() * 8;
    for (let y = Math.max(0, Math.floor(cy - rad)); y <= Math.min(side - 1, cy + rad); y++) {
      for (let x = Math.max(0, Math.floor(cx - rad)); x <= Math.min(side - 1, cx + rad); x++) {
        if ((x - cx) ** 2 + (y - cy) ** 2 <= rad * rad && r() < 0.7 && !mask[y * side + x]) {
          mask[y * side + x] = 1;
          on++;
        }
      }
    }
  }
  const pts = new Float64Array(on * 2);
  for (let y = 0, k = 0; y < side; y++)
    for (let x = 0; x < side; x++) if (mask[y * side + x]) ((pts[k++] = x), (pts[k++] = y));
  return pts;
}

/** 2048x2048 RGB: ~250 vesicles (filled and ring, radius 12..20, some touching), dark noisy background. */
function vesicleImage(seed: number): Uint8Array {
  const W = 2048,
    r = rng(seed);
  const img = new Float32Array(W * W);
  for (let i = 0; i < img.length; i++) img[i] = r() * 20;
  for (let v = 0; v < 250; v++) {
    const cx = r() * W,
      cy = r() * W,
      rad = 12 + r() * 8,
      ring = r() < 0.4,
      peak = 120 + r() * 135;
    for (let y = Math.max(0, Math.floor(cy - rad - 4)); y < Math.min(W, cy + rad + 4); y++) {
      for (let x = Math.max(0, Math.floor(cx - rad - 4)); x < Math.min(W, cx + rad + 4); x++) {
        const d = Math.hypot(x - cx, y - cy);
        const g = ring ? Math.exp(-((d - rad * 0.7) ** 2) / 8) : Math.exp(-(d * d) / (2 * (rad / 2) ** 2));
        img[y * W + x]! += peak * g * (0.7 + 0.6 * r());
      }
    }
  }
  const out = new Uint8Array(W * W * 3);
  for (let i = 0; i < img.length; i++) out.fill(Math.min(255, Math.round(img[i]!)), 3 * i, 3 * i + 3);
  return out;
}

const SK_SETUP = (file: string) => `
import numpy as np
from sklearn.cluster import DBSCAN
X = np.fromfile(${JSON.stringify(file)}, dtype=np.float64).reshape(-1, 2)`;
const SK_BODY = `labels = DBSCAN(eps=3, min_samples=2, n_jobs=${THREADS}).fit(X).labels_.astype(np.int32)`;
const LAB_SETUP = (file: string) => `
import numpy as np, torch, torch.nn.functional as F
from sklearn.cluster import DBSCAN
torch.set_num_threads(${THREADS})
img = np.fromfile(${JSON.stringify(file)}, dtype=np.uint8).reshape(2048, 2048, 3)
b = torch.tensor([-11.0]); k3 = torch.ones(1, 3, 3, 3); k3[:, :, 1, 1] = 10; k1 = torch.ones(1, 1, 3, 3); k1[:, :, 1, 1] = 10
def rest(x):
    for _ in range(4): x = (F.conv2d(x, k1, b, padding=1) > 0).float()
    pts = np.argwhere(x[0, 0].numpy() > 0)
    labels = DBSCAN(eps=3, min_samples=2, n_jobs=${THREADS}).fit(pts).labels_
    return np.array([[pts[labels == k][:, 1].min(), pts[labels == k][:, 0].min(), pts[labels == k][:, 1].max() + 1, pts[labels == k][:, 0].max() + 1] for k in range(labels.max() + 1)], dtype=np.float32)  # the lab's [min, max + 1] ('edges', maskbox's default)
# the same chain with the first pass decided exactly (integer sums): differs from torch only at exact ties
s = img.astype(np.int64).sum(2); p = np.pad(s, 1)
conv = sum(p[1 + dy:1 + dy + 2048, 1 + dx:1 + dx + 2048] for dy in (-1, 0, 1) for dx in (-1, 0, 1)) + 9 * s
exact = rest(torch.from_numpy((conv > 2805).astype(np.float32))[None, None])
ties = int((conv == 2805).sum())`;
const LAB_BODY = `global flips
x = torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1)[None] / 255
first = F.conv2d(x, k3, b, padding=1) > 0
boxes = rest(first.float())
flips = int(((conv > 2805) != first[0, 0].numpy()).sum())`;

const dir = mkdtempSync(join(tmpdir(), 'maskbox-dbscan-bench-'));
/** A typed copy of a binary file (readFileSync's Buffer may sit inside a larger pooled ArrayBuffer). */
const readTyped = <T>(path: string, Ctor: { new (b: ArrayBuffer): T }): T => {
  const b = readFileSync(path);
  return new Ctor(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const sameArray = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => v === b[i]);

const rows: (string | number)[][] = [];
const sides = (what: string, measured: Measured[], peerName: string, checks: string[]) => {
  const peer = measured.find((m) => m.name === peerName);
  for (const m of measured)
    rows.push([
      what,
      m.name,
      m.threads,
      fmtSpread(m.wall),
      fmtSpread(m.cpu),
      peer && m !== peer ? `${(peer.wall.median / m.wall.median).toFixed(1)}x` : '-',
      peer && m !== peer ? `${(peer.cpu.median / m.cpu.median).toFixed(1)}x` : '-',
      m === measured[0] ? checks.join('; ') || '-' : '',
    ]);
};
try {
  for (const [label, side, cover] of [
    ['sparse', 2048, 0.05],
    ['dense', 1024, 0.25],
  ] as const) {
    const pts = pixelPoints(side, cover, 7);
    const n = pts.length / 2;
    const run = (backend: 'js' | 'cpu') => dbscan(pts, { eps: 3, minSamples: 2, backend });
    const impls: Impl[] = [];
    const checks: string[] = [];
    const js = JS ? await run('js') : null;
    const native = CPU ? await run('cpu') : null;
    if (native) impls.push({ name: 'maskbox cpu', threads: THREADS, run: () => run('cpu') });
    if (js) impls.push({ name: 'maskbox js', threads: 1, run: () => run('js') });
    if (js && native) checks.push(`cpu = js: ${sameArray(native.labels, js.labels) ? 'yes' : 'NO'}`);
    let peer: PythonPeer | null = null;
    if (PY) {
      writeFileSync(join(dir, 'pts.bin'), pts);
      peer = new PythonPeer(SK_SETUP(join(dir, 'pts.bin')), SK_BODY, 'labels');
      await peer.round();
      await peer.dump(join(dir, 'labels.bin'));
      const skLabels = readTyped(join(dir, 'labels.bin'), Int32Array);
      for (const [name, r] of [
        ['js', js],
        ['cpu', native],
      ] as const)
        if (r) checks.push(`${name} = sklearn: ${sameArray(skLabels, r.labels) ? 'yes' : 'NO'}`);
      impls.push({ name: 'scikit-learn DBSCAN', threads: THREADS, run: () => peer!.round() });
    }
    const ours = (native ?? js)!;
    const what = `${label}: ${n} pixels = ${(cover * 100).toFixed(0)} % of a ${side}² frame (${ours.clusters} clusters)`;
    sides(what, await alternate(impls, ROUNDS, 1), 'scikit-learn DBSCAN', checks);
    peer?.close();
  }

  const img = vesicleImage(3);
  const image = { data: img, width: 2048, height: 2048, channels: 3 };
  const run = (backend: 'js' | 'cpu') => dbscanBaseline(image, { backend });
  const js = JS ? await run('js') : null;
  const native = CPU ? await run('cpu') : null;
  const ours = (native ?? js)!;
  const impls: Impl[] = [];
  if (native) impls.push({ name: 'maskbox cpu', threads: THREADS, run: () => run('cpu') });
  if (js) impls.push({ name: 'maskbox js', threads: 1, run: () => run('js') });
  const checks: string[] = [];
  if (js && native) {
    const same =
      sameArray(native.boxes, js.boxes) && sameArray(native.labels, js.labels) && sameArray(native.points, js.points);
    checks.push(`cpu = js (points, labels, boxes): ${same ? 'yes' : 'NO'}`);
  }
  let peer: PythonPeer | null = null;
  if (PY) {
    writeFileSync(join(dir, 'img.bin'), img);
    peer = new PythonPeer(LAB_SETUP(join(dir, 'img.bin')), LAB_BODY, 'boxes');
    await peer.round();
    await peer.dump(join(dir, 'boxes.bin'));
    const boxes = readTyped(join(dir, 'boxes.bin'), Float32Array);
    const [flips, ties] = [await peer.eval('flips'), await peer.eval('ties')];
    const exactPath = join(dir, 'exact.bin');
    await peer.eval(`exact.tofile(${JSON.stringify(exactPath)})`);
    const exact = readTyped(exactPath, Float32Array);
    checks.push(
      sameArray(boxes, ours.boxes)
        ? 'boxes = torch+sklearn: yes'
        : `boxes = torch+sklearn with the first pass decided exactly: ${sameArray(exact, ours.boxes) ? 'yes' : 'NO'} (torch float32 flipped ${flips} of ${ties} exact-0 pixels)`,
    );
    impls.push({ name: 'torch conv2d x5 + sklearn', threads: THREADS, run: () => peer!.round() });
  }
  sides(
    `baseline detector, one 2048x2048 RGB image (${ours.labels.length} px kept, ${ours.sizes.length} boxes)`,
    await alternate(impls, ROUNDS, 1),
    'torch conv2d x5 + sklearn',
    checks,
  );
  peer?.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`DBSCAN, eps 3, min_samples 2 — cpu: ${cpu.reason}\n`);
console.log(`${methodLine(ROUNDS)}. Load average (1 min): ${loadStart} at the start, ${load1()} at the end.\n`);
console.log(
  table(
    [
      'input',
      'implementation',
      'threads',
      'wall ms, median (min-max)',
      'CPU ms, median (min-max)',
      'wall: peer / this',
      'CPU: peer / this',
      'outputs checked in this run',
    ],
    rows,
  ),
);
