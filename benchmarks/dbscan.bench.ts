/**
 * DBSCAN (eps 3, min_samples 2) on pixel-like points: the on-pixels of random round blobs (70 % fill)
 * in raster order, 200k and 1M points; and the DBSCAN baseline detector on one synthetic 2048x2048
 * vesicle image. Backends: js (TypeScript reference) and cpu (native addon, when built). Peer:
 * scikit-learn 1.2 (Debian's /usr/bin/python3) on the same points / the lab's torch conv2d + sklearn
 * pipeline on the same image; outputs are checked identical (cpu vs js vs the peer) in the same run.
 * Run: npx tsx benchmarks/dbscan.bench.ts [--repeats 3] [--peer-repeats 1] [--no-python] [--no-js]
 * (MASKBOX_THREADS=1 for the native kernels on one thread.)
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { dbscan } from '../src/ops/dbscan.js';
import { dbscanBaseline } from '../src/ops/baseline.js';
import { backendStatus } from '../src/backends/registry.js';
import { ensureBackends } from '../src/backends/index.js';
import { machine, table, timeit, type Timing } from './harness.js';
import { rng } from '../test/helpers.js';

const { values } = parseArgs({
  options: {
    repeats: { type: 'string' },
    'peer-repeats': { type: 'string' },
    'no-python': { type: 'boolean' },
    'no-js': { type: 'boolean' },
  },
});
const REPEATS = Number(values.repeats ?? 3);
/** Timed runs of each Python peer, in one process (median reported). */
const PEER_REPEATS = Number(values['peer-repeats'] ?? 1);
const PY = !values['no-python'];
const JS = !values['no-js'];
ensureBackends();
const cpu = backendStatus('cpu');
if (!cpu.available) console.error(`cpu backend unavailable (${cpu.reason}): js rows only`);
const CPU = cpu.available;

/** About `target` on-pixels of random blobs (radius 2..10, 70 % filled) on a square canvas at ~25 % cover. */
function pixelPoints(target: number, seed: number): Float64Array {
  const side = Math.ceil(Math.sqrt(target / 0.25));
  const r = rng(seed);
  const mask = new Uint8Array(side * side);
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

const SK_DBSCAN = `
import sys, time, numpy as np
from sklearn.cluster import DBSCAN
X = np.fromfile(sys.argv[1], dtype=np.float64).reshape(-1, 2)
times = []
for _ in range(int(sys.argv[3])):
    t = time.perf_counter(); labels = DBSCAN(eps=3, min_samples=2).fit(X).labels_; times.append(time.perf_counter() - t)
labels.astype(np.int32).tofile(sys.argv[2]); print(float(np.median(times)) * 1000)
`;
const LAB = `
import sys, time, numpy as np, torch, torch.nn.functional as F
from sklearn.cluster import DBSCAN
torch.set_num_threads(1)
img = np.fromfile(sys.argv[1], dtype=np.uint8).reshape(2048, 2048, 3)
times = []
for _ in range(int(sys.argv[4])):
  t = time.perf_counter()
  x = torch.from_numpy(img.astype(np.float32)).permute(2, 0, 1)[None] / 255
  b = torch.tensor([-11.0]); k3 = torch.ones(1, 3, 3, 3); k3[:, :, 1, 1] = 10; k1 = torch.ones(1, 1, 3, 3); k1[:, :, 1, 1] = 10
  def rest(x):
      for _ in range(4): x = (F.conv2d(x, k1, b, padding=1) > 0).float()
      pts = np.argwhere(x[0, 0].numpy() > 0)
      labels = DBSCAN(eps=3, min_samples=2).fit(pts).labels_
      return np.array([[pts[labels == k][:, 1].min(), pts[labels == k][:, 0].min(), pts[labels == k][:, 1].max(), pts[labels == k][:, 0].max()] for k in range(labels.max() + 1)], dtype=np.float32)
  first = F.conv2d(x, k3, b, padding=1) > 0
  boxes = rest(first.float())
  times.append(time.perf_counter() - t)
dt = float(np.median(times))
# the same chain with the first pass decided exactly (integer sums): differs from torch only at exact ties
s = img.astype(np.int64).sum(2); p = np.pad(s, 1)
conv = sum(p[1 + dy:1 + dy + 2048, 1 + dx:1 + dx + 2048] for dy in (-1, 0, 1) for dx in (-1, 0, 1)) + 9 * s
flips = int(((conv > 2805) != first[0, 0].numpy()).sum())
exact = rest(torch.from_numpy((conv > 2805).astype(np.float32))[None, None])
boxes.tofile(sys.argv[2]); exact.tofile(sys.argv[3]); print(dt * 1000, flips, int((conv == 2805).sum()))
`;

const dir = mkdtempSync(join(tmpdir(), 'maskbox-dbscan-bench-'));
const python = (code: string, args: string[]) =>
  execFileSync('/usr/bin/python3', ['-c', code, ...args], { encoding: 'utf8', maxBuffer: 1 << 20 })
    .trim()
    .split(' ')
    .map(Number);
/** A typed copy of a binary file (readFileSync's Buffer may sit inside a larger pooled ArrayBuffer). */
const readTyped = <T>(path: string, Ctor: { new (b: ArrayBuffer): T }): T => {
  const b = readFileSync(path);
  return new Ctor(b.buffer.slice(b.byteOffset, b.byteOffset + b.length));
};
const sameArray = (a: ArrayLike<number>, b: ArrayLike<number>) =>
  a.length === b.length && Array.from(a).every((v, i) => v === b[i]);

const rows: (string | number)[][] = [];
const ms = (t: Timing | null) => (t ? t.median : '-');
const ratio = (peer: number, t: Timing | null) =>
  t && Number.isFinite(peer) ? `${(peer / t.median).toFixed(1)}x` : '-';
const row = (name: string, tJs: Timing | null, tCpu: Timing | null, peer: number, checks: string[]) => [
  name,
  ms(tJs),
  ms(tCpu),
  tCpu ? tCpu.min : '-',
  Number.isFinite(peer) ? peer.toFixed(0) : '-',
  ratio(peer, tJs),
  ratio(peer, tCpu),
  checks.join('; ') || '-',
];
try {
  for (const target of [200_000, 1_000_000]) {
    const pts = pixelPoints(target, 7);
    const n = pts.length / 2;
    const run = (backend: 'js' | 'cpu') => dbscan(pts, { eps: 3, minSamples: 2, backend });
    const js = JS ? await run('js') : null;
    const tJs = JS ? await timeit(() => run('js'), REPEATS, 1) : null;
    const native = CPU ? await run('cpu') : null;
    const tCpu = CPU ? await timeit(() => run('cpu'), Math.max(REPEATS, 5), 1) : null;
    const ours = (native ?? js)!;
    const checks: string[] = [];
    if (js && native) checks.push(`cpu = js: ${sameArray(native.labels, js.labels) ? 'yes' : 'NO'}`);
    let peer = NaN;
    if (PY) {
      writeFileSync(join(dir, 'pts.bin'), pts);
      [peer = NaN] = python(SK_DBSCAN, [join(dir, 'pts.bin'), join(dir, 'labels.bin'), String(PEER_REPEATS)]);
      const skLabels = readTyped(join(dir, 'labels.bin'), Int32Array);
      for (const [name, r] of [
        ['js', js],
        ['cpu', native],
      ] as const)
        if (r) checks.push(`${name} = sklearn: ${sameArray(skLabels, r.labels) ? 'yes' : 'NO'}`);
    }
    rows.push(row(`dbscan ${n} points (${ours.clusters} clusters)`, tJs, tCpu, peer, checks));
  }

  const img = vesicleImage(3);
  const image = { data: img, width: 2048, height: 2048, channels: 3 };
  const run = (backend: 'js' | 'cpu') => dbscanBaseline(image, { backend });
  const js = JS ? await run('js') : null;
  const tJs = JS ? await timeit(() => run('js'), REPEATS, 1) : null;
  const native = CPU ? await run('cpu') : null;
  const tCpu = CPU ? await timeit(() => run('cpu'), Math.max(REPEATS, 5), 1) : null;
  const ours = (native ?? js)!;
  const checks: string[] = [];
  if (js && native) {
    const same =
      sameArray(native.boxes, js.boxes) && sameArray(native.labels, js.labels) && sameArray(native.points, js.points);
    checks.push(`cpu = js (points, labels, boxes): ${same ? 'yes' : 'NO'}`);
  }
  let peer = NaN;
  if (PY) {
    writeFileSync(join(dir, 'img.bin'), img);
    const [ms = NaN, flips, ties] = python(LAB, [
      join(dir, 'img.bin'),
      join(dir, 'boxes.bin'),
      join(dir, 'exact.bin'),
      String(PEER_REPEATS),
    ]);
    peer = ms;
    const boxes = readTyped(join(dir, 'boxes.bin'), Float32Array);
    const exact = readTyped(join(dir, 'exact.bin'), Float32Array);
    checks.push(
      sameArray(boxes, ours.boxes)
        ? 'boxes = torch+sklearn: yes'
        : `boxes = torch+sklearn with the first pass decided exactly: ${sameArray(exact, ours.boxes) ? 'yes' : 'NO'} (torch float32 flipped ${flips} of ${ties} exact-0 pixels)`,
    );
  }
  rows.push(
    row(
      `baseline detector 2048x2048 (${ours.labels.length} px kept, ${ours.sizes.length} boxes)`,
      tJs,
      tCpu,
      peer,
      checks,
    ),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

console.log(`DBSCAN — ${machine()}; cpu: ${cpu.reason}\n`);
console.log(
  table(
    [
      'case',
      'js median ms',
      'cpu median ms',
      'cpu min ms',
      `peer median ms (${PEER_REPEATS} run${PEER_REPEATS > 1 ? 's' : ''})`,
      'peer / js',
      'peer / cpu',
      'identical',
    ],
    rows,
  ),
);
