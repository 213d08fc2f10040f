/**
 * The cuda backend's own checks. The op specs (test/nms.test.ts, ...) already run on `cuda` through
 * describeEachKernel; here: which build serves it (in CI it must be available: the GPU build or the
 * CPU emulation, never skipped), that the emulation is reported as such and never chosen by `auto`,
 * that the nvcc build loads and explains itself without a driver, and larger random inputs (several
 * sort blocks and NMS tiles) compared with the cpu and js kernels.
 */
import { describe, expect, it, vi } from 'vitest';
import { maskToRuns } from '../src/ops/rle.js';
import { dice } from '../src/ops/dice.js';
import { nms } from '../src/ops/nms.js';
import { nonMaxSuppression } from '../src/ops/yoloNms.js';
import { backends } from '../src/backends/status.js';
import { backendStatus } from '../src/backends/registry.js';
import { ensureBackends } from '../src/backends/index.js';
import { BackendUnavailableError, InvalidArgumentError } from '../src/errors.js';
import { cudaStatus } from '../bindings/cuda.js';
import { loadNative } from '../bindings/native.js';
import { rng } from './helpers.js';

const inCI = (process.env.CI ?? '') !== '';
ensureBackends();
const status = cudaStatus();

function randomBoxes(r: () => number, n: number): { boxes: Float32Array; scores: Float32Array; classes: Int32Array } {
  const boxes = new Float32Array(4 * n),
    scores = new Float32Array(n),
    classes = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    let x = r() * 2000,
      y = r() * 2000,
      w = 5 + r() * 60,
      h = 5 + r() * 60;
    if (i > 0 && r() < 0.5) {
      const j = Math.floor(r() * i);
      x = boxes[4 * j]! + (r() - 0.5) * 8;
      y = boxes[4 * j + 1]! + (r() - 0.5) * 8;
      w = boxes[4 * j + 2]! - boxes[4 * j]!;
      h = boxes[4 * j + 3]! - boxes[4 * j + 1]!;
    }
    boxes.set([x, y, x + w, y + h], 4 * i);
    scores[i] = Math.round(r() * 64) / 64; // many ties: visiting order must break them by index
    classes[i] = Math.floor(r() * 3);
  }
  return { boxes, scores, classes };
}

describe('cuda backend: which build serves it', () => {
  it('is available in CI (GPU build or CPU emulation), else says why', () => {
    if (inCI) expect(status.available, status.reason).toBe(true);
    expect(backendStatus('cuda').reason).toBe(status.reason);
    expect(status.reason.length).toBeGreaterThan(10);
  });

  it('reports the emulation as EMULATED in backends() and never lets auto pick it', async () => {
    if (!status.available || !status.emulated) return void expect(status.emulated && !status.available).toBe(false);
    const entry = backends().find((b) => b.name === 'cuda')!;
    expect(entry.available).toBe(true);
    expect(entry.reason).toMatch(/^EMULATED: /);
    expect(entry.software).toBe(true);
    const { boxes, scores } = randomBoxes(rng(1), 20000);
    const auto = await nms(boxes, scores, { iouThreshold: 0.5 });
    expect(auto.backend).not.toBe('cuda');
    const explicit = await nms(boxes.subarray(0, 400), scores.subarray(0, 100), { iouThreshold: 0.5, backend: 'cuda' });
    expect(explicit.backend).toBe('cuda');
  });

  it('loads the nvcc build without a driver and explains why there is no CUDA', async () => {
    const native = loadNative();
    if (!native || !native.info().cuda) return; // no nvcc at build time: nothing to load
    const dev = (native.cuda as { status(): { code: number; error: string; count: number } }).status();
    if (dev.code === 0 && dev.count > 0) return; // a real GPU
    expect(dev.error).toMatch(/^cuda\w+: /);
    vi.stubEnv('MASKBOX_CUDA', 'real');
    vi.resetModules();
    try {
      const fresh = await import('../bindings/cuda.js');
      const st = fresh.cudaStatus();
      expect(st.available).toBe(false);
      expect(st.reason).toContain(`cudaGetDeviceCount returned ${dev.code} (${dev.error})`);
    } finally {
      vi.unstubAllEnvs();
      vi.resetModules();
    }
  });

  it('rejects an explicit cuda request with the reason when it cannot run', async () => {
    if (status.available) return;
    await expect(nms(new Float32Array(4), new Float32Array(1), { backend: 'cuda' })).rejects.toBeInstanceOf(
      BackendUnavailableError,
    );
  });
});

describe.runIf(status.available)('cuda kernels on larger inputs', () => {
  it('nms equals js on 6000 boxes (24 sort blocks, 94 mask tiles), with and without classes', async () => {
    const { boxes, scores, classes } = randomBoxes(rng(7), 6000);
    for (const opts of [
      { iouThreshold: 0.5 },
      { iouThreshold: 0.3, classes },
      { iouThreshold: 0.7, maxDetections: 300 },
    ]) {
      const want = await nms(boxes, scores, { ...opts, backend: 'js' });
      const got = await nms(boxes, scores, { ...opts, backend: 'cuda' });
      expect(got.backend).toBe('cuda');
      expect(Array.from(got.indices)).toEqual(Array.from(want.indices));
    }
  }, 120_000);

  it('yoloNms equals js on an 8400 x 6 YOLOv6 output and an 84 x 2100 YOLOv8 output', async () => {
    const r = rng(11);
    const n = 8400;
    const pred = new Float32Array(n * 6);
    for (let i = 0; i < n; i++) {
      pred.set([r() * 640, r() * 640, 4 + r() * 30, 4 + r() * 30, 1, Math.round(r() * 32) / 32], 6 * i);
    }
    const want = await nonMaxSuppression(pred, [1, n, 6], { conf: 0.4, iou: 0.45, backend: 'js' });
    const got = await nonMaxSuppression(pred, [1, n, 6], { conf: 0.4, iou: 0.45, backend: 'cuda' });
    expect(got[0]!.backend).toBe('cuda');
    expect(Array.from(got[0]!.rows)).toEqual(Array.from(want[0]!.rows));
    expect(Array.from(got[0]!.boxes)).toEqual(Array.from(want[0]!.boxes));
    expect(Array.from(got[0]!.scores)).toEqual(Array.from(want[0]!.scores));
    const m = 2100,
      nc = 80;
    const cols = new Float32Array((4 + nc) * m);
    for (let i = 0; i < m; i++) {
      cols[i] = r() * 640;
      cols[m + i] = r() * 640;
      cols[2 * m + i] = 4 + r() * 60;
      cols[3 * m + i] = 4 + r() * 60;
      for (let c = 0; c < nc; c++) cols[(4 + c) * m + i] = r() < 0.97 ? r() * 0.2 : Math.round(r() * 16) / 16;
    }
    const opts = { layout: 'yolov8' as const, conf: 0.25, iou: 0.5 };
    const w8 = await nonMaxSuppression(cols, [1, 4 + nc, m], { ...opts, backend: 'js' });
    const g8 = await nonMaxSuppression(cols, [1, 4 + nc, m], { ...opts, backend: 'cuda' });
    expect(Array.from(g8[0]!.rows)).toEqual(Array.from(w8[0]!.rows));
    expect(Array.from(g8[0]!.classes)).toEqual(Array.from(w8[0]!.classes));
  }, 120_000);

  it('bad arguments are typed errors naming the argument, before any kernel runs', async () => {
    await expect(nms(new Float32Array(5), new Float32Array(1), { backend: 'cuda' })).rejects.toBeInstanceOf(
      InvalidArgumentError,
    );
    await expect(nms(new Float32Array(4), new Float32Array(1), { iouThreshold: 2, backend: 'cuda' })).rejects.toThrow(
      /iouThreshold/,
    );
  });
});

// test/rle.test.ts and test/dice.test.ts run their whole specs (numpy goldens, properties) on cuda too;
// these add cuda-only cases against js: unaligned views, odd shapes, several dice pieces per channel.
describe.runIf(status.available)('cuda rleEncode (random masks against js)', () => {
  it('equals js on random [C, H, W] masks (row and column order, unaligned view, odd sizes)', async () => {
    const r = rng(21);
    for (const [C, H, W, p] of [
      [3, 37, 41, 0.5],
      [2, 64, 64, 0.02],
      [1, 1, 1000, 0.97],
      [4, 33, 1, 0.5],
    ] as const) {
      const buf = new Uint8Array(1 + C * H * W);
      for (let i = 1; i < buf.length; i++) buf[i] = r() < p ? 1 + Math.floor(r() * 255) : 0;
      const mask = buf.subarray(1);
      for (const order of ['row', 'col'] as const) {
        const want = await maskToRuns(mask, { height: H, width: W }, { order, backend: 'js' });
        const got = await maskToRuns(mask, { height: H, width: W }, { order, backend: 'cuda' });
        expect(got.runs.map((x) => Array.from(x))).toEqual(want.runs.map((x) => Array.from(x)));
      }
    }
  }, 120_000);
});

describe.runIf(status.available)('cuda dice (random masks against js)', () => {
  it('counts equal js on random masks (several 64 KiB pieces per channel, non-zero = 1)', async () => {
    const r = rng(5);
    const shape = { classes: 2, height: 300, width: 301 };
    const n = 2 * 300 * 301;
    const pred = [0, 1, 2].map(() => Uint8Array.from({ length: n }, () => (r() < 0.3 ? 1 + Math.floor(r() * 255) : 0)));
    const truth = [0, 1, 2].map(() => Uint8Array.from({ length: n }, () => (r() < 0.5 ? 1 : 0)));
    const want = await dice(pred, truth, shape, { backend: 'js' });
    const got = await dice(pred, truth, shape, { backend: 'cuda' });
    expect(Array.from(got.counts)).toEqual(Array.from(want.counts));
  }, 60_000);
});
