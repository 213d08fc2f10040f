/**
 * The hand-bone post-process: logits [29, 512, 512] -> bilinear 2048x2048 -> sigmoid > 0.5 -> 29 RLE
 * strings. maskbox js (the reference composition: resize kernel + threshold + RLE encoder, one class at a
 * time) and cpu (fused C++), against the competition's own pipeline in torch (F.interpolate, sigmoid,
 * > 0.5, numpy encode_mask_to_rle; benchmarks/peers/torch_logits_rle.py, run with /usr/bin/python3 at
 * torch.set_num_threads(os.cpu_count()), the same thread count as maskbox's pool). Every implementation's
 * 29 strings are checked identical before the table is printed.
 *
 * Inputs: "bones", smooth elongated blobs per class with ragged edges (logits -15..10 plus noise), as a
 * segmentation head produces; and "worst case" for the fused kernel: every source cell within the
 * rounding margin of the cutoff, so every output pixel is interpolated exactly (the output is one run).
 * Run: npx tsx benchmarks/logitsToRle.bench.ts [--quick]
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { logitsToRle } from '../src/ops/logitsToRle.js';
import { availableBackends } from '../test/helpers.js';
import { getKernel } from '../src/backends/registry.js';
import { loadNative } from '../bindings/native.js';
import { machine, table, timeit } from './harness.js';
import { rng } from '../test/helpers.js';

const quick = process.argv.includes('--quick');
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

const rows: (string | number)[][] = [];
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
const threads = loadNative()?.info().threads;
const python = '/usr/bin/python3';
const peer = join(fileURLToPath(new URL('.', import.meta.url)), 'peers', 'torch_logits_rle.py');
const notes: string[] = [];

for (const [name, logits, opts] of inputs) {
  const worst = name.startsWith('worst');
  const results = new Map<string, string[]>();
  const times = new Map<string, number>();
  let torchMs: number | undefined;

  // torch first (separate process; its memory is gone before ours is measured)
  if (!worst) {
    if (!existsSync(python)) notes.push(`torch row skipped: ${python} not found`);
    else {
      const dir = mkdtempSync(join(tmpdir(), 'maskbox-bench-'));
      try {
        const f = join(dir, 'logits.f32');
        writeFileSync(f, new Uint8Array(logits.buffer, logits.byteOffset, logits.byteLength));
        const out = join(dir, 'out.json');
        const p = spawnSync(
          python,
          [peer, f, ...[C, h, w, H, W].map(String), String(opts.threshold ?? 0.5), quick ? '1' : '3', out],
          {
            encoding: 'utf8',
            maxBuffer: 1 << 26,
          },
        );
        if (p.status !== 0)
          notes.push(
            `torch row skipped: the peer failed (${(p.stderr || p.error?.message || '').trim().split('\n').pop()})`,
          );
        else {
          const t = JSON.parse(p.stdout.trim().split('\n').pop()!);
          torchMs = t.median;
          results.set('torch', JSON.parse(readFileSync(out, 'utf8')).rle);
          rows.push([
            name,
            `torch ${t.torch} (${t.threads} threads): interpolate + sigmoid > 0.5 + numpy RLE`,
            t.median,
            t.min,
            '1.0',
          ]);
          notes.push(
            `torch ${name}: interpolate ${t.interpolate.toFixed(0)} ms, sigmoid + threshold ${t.sigmoid_threshold.toFixed(0)} ms, numpy RLE ${t.rle.toFixed(0)} ms (medians of ${t.runs})`,
          );
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  }

  for (const b of backends) {
    if (worst && b === 'js') continue; // the reference's time does not depend on the values
    let last: string[] = [];
    const t = await timeit(
      async () => {
        last = (await logitsToRle(logits, shape, size, { ...opts, backend: b })).rle;
      },
      b === 'js' || quick ? 3 : 7,
    );
    results.set(b, last);
    times.set(b, t.median);
    const label = b === 'cpu' ? `maskbox cpu (fused C++, ${threads} threads)` : `maskbox ${b}`;
    rows.push([name, label, t.median, t.min, torchMs ? (torchMs / t.median).toFixed(1) : '']);
  }

  // What the cpu time is made of: the native kernel alone vs the op (argument checks: every logit finite).
  const addon = loadNative() as unknown as Record<string, (a: object) => Promise<unknown>> | null;
  if (addon && times.has('cpu')) {
    const cutoff = opts.logitCutoff ?? 8.940696716308594e-8; // sigmoidCutoff(0.5)
    const args = { data: logits, channels: C, inHeight: h, inWidth: w, outHeight: H, outWidth: W, cutoff };
    const t = await timeit(() => addon.logitsToRle!(args), quick ? 3 : 7);
    notes.push(
      `${name}: the native kernel alone (addon called directly) ${t.median.toFixed(1)} ms of the op's ${times.get('cpu')!.toFixed(1)} ms; the rest is the op's argument checks (${C * h * w} logits checked finite in JS) and dispatch`,
    );
  }

  // Identical strings, every implementation.
  const [ref, ...others] = [...results.entries()];
  for (const [who, rle] of others) {
    const bad = rle.findIndex((s, c) => s !== ref![1][c]);
    if (rle.length !== C || bad >= 0) throw new Error(`${name}: ${who} differs from ${ref![0]} at class ${bad}`);
  }
  const chars = ref![1].reduce((s, x) => s + x.length, 0);
  if (others.length) {
    notes.push(
      `${name}: ${[...results.keys()].join(', ')} gave identical strings (${(chars / 1e3).toFixed(0)} k characters in all)`,
    );
  }
}

console.log(`logits -> RLE, [${shape}] -> [${C}, ${H}, ${W}] — ${machine()}\n`);
console.log(table(['input', 'implementation', 'median ms', 'min ms', 'x torch'], rows));
console.log('\n' + notes.map((n) => `- ${n}`).join('\n'));
