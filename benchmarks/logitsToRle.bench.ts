/**
 * The hand-bone post-process: logits [29, 512, 512] -> bilinear 2048x2048 -> sigmoid > 0.5 -> 29 RLE
 * strings. maskbox js (the reference composition: resize kernel + threshold + RLE encoder, one class at a
 * time) and cpu (fused C++; also its native kernel called alone), against the competition's own pipeline
 * in torch (F.interpolate, sigmoid, > 0.5, numpy encode_mask_to_rle; benchmarks/peers/torch_logits_rle.py
 * in a long-lived /usr/bin/python3 peer, harness.PythonPeer, at torch.set_num_threads = maskbox's pool
 * threads). Every implementation's 29 strings are checked identical before timing; then the sides are
 * alternated round by round (harness.alternate): wall and process CPU time, medians (min-max).
 *
 * Inputs: "bones", smooth elongated blobs per class with ragged edges (logits -15..10 plus noise), as a
 * segmentation head produces; and "worst case" for the fused kernel: every source cell within the
 * rounding margin of the cutoff, so every output pixel is interpolated exactly (the output is one run).
 * On the worst case only the cpu sides are timed (the js reference's and torch's times do not depend on
 * the values); the js reference is run once to check the strings.
 * Run: npx tsx benchmarks/logitsToRle.bench.ts [--rounds 7] [--no-python]
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { logitsToRle } from '../src/ops/logitsToRle.js';
import { availableBackends } from '../test/helpers.js';
import { getKernel } from '../src/backends/registry.js';
import { ensureBackends } from '../src/backends/index.js';
import { loadNative } from '../bindings/native.js';
import { alternate, benchStart, comparisonRows, printComparison, PythonPeer, type Impl } from './harness.js';
import { rng } from '../test/helpers.js';

const start = benchStart(7, ['torch']);
ensureBackends();
const C = 29,
  h = 512,
  w = 512,
  H = 2048,
  W = 2048;
const shape = [C, h, w] as const,
  size = [H, W] as const;

/** Per class 1-3 rotated ellipses (bone-like: long and thin to round), logit 10 inside falling to -15. */
function bones(): Float32Array {
  const r = rng(2048);
  const x = new Float32Array(C * h * w);
  for (let c = 0; c < C; c++) {
    const blobs = Array.from({ length: 1 + Math.floor(r() * 3) }, () => {
      const a = 8 + r() * 60,
        b = a * (0.2 + r() * 0.8),
        th = r() * Math.PI;
      return { cy: 60 + r() * 392, cx: 60 + r() * 392, a, b, cos: Math.cos(th), sin: Math.sin(th) };
    });
    for (let y = 0; y < h; y++) {
      for (let xx = 0; xx < w; xx++) {
        let d = Infinity;
        for (const e of blobs) {
          const u = ((xx - e.cx) * e.cos + (y - e.cy) * e.sin) / e.a;
          const v = (-(xx - e.cx) * e.sin + (y - e.cy) * e.cos) / e.b;
          d = Math.min(d, Math.hypot(u, v));
        }
        x[(c * h + y) * w + xx] = Math.max(-15, 10 * (1 - d)) + (r() - 0.5) * 1.5;
      }
    }
  }
  return x;
}

const inputs: [string, Float32Array, { threshold?: number; logitCutoff?: number }][] = [
  ['bones', bones(), { threshold: 0.5 }],
];
{
  // Every cell straddles the cutoff within the rounding margin: values 1 +- 2^-20, cutoff 1 - 2^-21.
  const r = rng(7);
  const x = Float32Array.from({ length: C * h * w }, () => 1 + (r() - 0.5) * 2 ** -21);
  inputs.push(['worst case (every pixel interpolated)', x, { logitCutoff: 1 - 2 ** -21 }]);
}

const backends = availableBackends().filter((b) => getKernel('logitsToRle', b));
/** The cpu backend's pool threads; torch gets the same. */
const THREADS = loadNative()?.info().threads ?? 1;
const addon = loadNative() as unknown as Record<string, (a: object) => Promise<unknown>> | null;
const PY = start.python;
const notes: string[] = [];
if (!PY) notes.push('torch row skipped: --no-python, or /usr/bin/python3 has no torch');
const TORCH = `torch F.interpolate + sigmoid > 0.5 + numpy RLE`;

const rows: (string | number)[][] = [];
const dir = mkdtempSync(join(tmpdir(), 'maskbox-logits-bench-'));
try {
  for (const [name, logits, opts] of inputs) {
    const worst = name.startsWith('worst');
    const impls: Impl[] = [];
    const results = new Map<string, string[]>();
    const run = (backend: (typeof backends)[number]) => async () => {
      results.set(backend, (await logitsToRle(logits, shape, size, { ...opts, backend })).rle);
    };
    for (const b of backends) {
      const r = run(b);
      await r(); // the strings checked below
      // the reference's time does not depend on the values: timed on bones only
      if (!(worst && b === 'js'))
        impls.push({
          name: b === 'cpu' ? 'maskbox cpu (fused C++)' : `maskbox ${b}`,
          threads: b === 'cpu' ? THREADS : 1,
          run: r,
        });
    }
    // The native kernel alone (addon called directly): the op adds its argument checks (every logit finite) and dispatch.
    if (addon && results.has('cpu')) {
      const cutoff = opts.logitCutoff ?? 8.940696716308594e-8; // sigmoidCutoff(0.5)
      const args = { data: logits, channels: C, inHeight: h, inWidth: w, outHeight: H, outWidth: W, cutoff };
      impls.push({
        name: 'maskbox cpu native kernel alone (no op checks)',
        threads: THREADS,
        run: () => addon.logitsToRle!(args),
      });
    }
    let peer: PythonPeer | null = null;
    if (PY && !worst) {
      const f = join(dir, 'logits.f32');
      writeFileSync(f, logits);
      peer = new PythonPeer(
        `import sys, json, numpy as np, torch
sys.path.insert(0, ${JSON.stringify(join(import.meta.dirname, 'peers'))})
from torch_logits_rle import pipeline
torch.set_num_threads(${THREADS})
x = torch.from_numpy(np.fromfile(${JSON.stringify(f)}, dtype='<f4').reshape(1, ${C}, ${h}, ${w}))
stages = []
def save(path):
    with open(path, 'w') as f: json.dump(rle, f)
    return len(rle)`,
        `global rle
rle = pipeline(x, ${H}, ${W}, ${opts.threshold ?? 0.5}, stages)`,
      );
      await peer.round();
      await peer.eval(`save(${JSON.stringify(join(dir, 'rle.json'))})`);
      results.set('torch', JSON.parse(readFileSync(join(dir, 'rle.json'), 'utf8')) as string[]);
      impls.push({ name: TORCH, threads: THREADS, run: () => peer!.round() });
    }

    // Identical strings, every implementation, before timing (torch's `stages` then hold the check round and the warm-up).
    const [ref, ...others] = [...results.entries()];
    const checks: string[] = [];
    for (const [who, rle] of others) {
      const bad = rle.findIndex((s, c) => s !== ref![1][c]);
      if (rle.length !== C || bad >= 0) throw new Error(`${name}: ${who} differs from ${ref![0]} at class ${bad}`);
      checks.push(`${who} = ${ref![0]}: yes`);
    }
    const chars = ref![1].reduce((s, x) => s + x.length, 0);
    const measured = await alternate(impls, start.rounds, 1);
    rows.push(
      ...comparisonRows(
        `${name} (${chars < 1e4 ? chars : `${(chars / 1e3).toFixed(0)} k`} RLE characters)`,
        measured,
        peer ? TORCH : null,
        checks,
      ),
    );
    if (peer) {
      const med = (k: number) => peer!.eval(`round(float(np.median([s[${k}] for s in stages[2:]])), 1)`);
      notes.push(
        `torch on ${name}, medians of its timed rounds: interpolate ${await med(0)} ms, sigmoid + threshold ${await med(1)} ms, numpy RLE ${await med(2)} ms`,
      );
      peer.close();
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

printComparison(
  `logits -> RLE, [${shape}] -> [${C}, ${H}, ${W}]; torch 1.13 (/usr/bin/python3)`,
  start,
  { first: 'input', peer: 'torch' },
  rows,
  notes,
);
