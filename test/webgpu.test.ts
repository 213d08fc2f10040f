/**
 * The WebGPU backend's host side (the op specs run on it through describeEachBackend): the device's
 * status and lifecycle, `auto` never choosing a software adapter, the embedded WGSL being current,
 * the pipeline cache ignoring shapes, dispatch folding, the IoU mask in many row blocks, and a process
 * that collects garbage while a device is in use (a collected Dawn instance crashes the process).
 */
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { backendStatus, disposeBackends, initBackend, getKernel } from '../src/backends/registry.js';
import { GpuContext, f32Below } from '../src/backends/webgpu/context.js';
import { setMaskBlockBytes } from '../src/backends/webgpu/nms.js';
import { BufferPool } from '../src/backends/webgpu/pool.js';
import { nms as nmsReference } from '../src/backends/js/nms.js';
import { nms } from '../src/ops/nms.js';
import { REPO, requiredBackends, rng } from './helpers.js';

const status = backendStatus('webgpu');
const run = status.available ? describe : describe.skip;

describe('webgpu backend status', () => {
  it(`is available, or says why${status.available ? '' : ` (${status.reason})`}`, () => {
    if (requiredBackends().includes('webgpu')) expect(status.available, status.reason).toBe(true);
    expect(status.reason.length).toBeGreaterThan(10);
    if (status.available) expect(status.device).toMatch(/\S/);
    else expect(status.reason).toMatch(/adapter|webgpu|not initialised|device/i);
  });
});

describe('embedded WGSL', () => {
  const script = `${REPO}/scripts/gen-wgsl.mjs`; // a plain .mjs: imported by path, typed here
  const gen = async () =>
    (await import(script)) as { generate(): Promise<string>; expand(text: string, file: string): string };

  it('src/backends/webgpu/wgsl.ts is what scripts/gen-wgsl.mjs generates from kernels/*.wgsl and kernels/common', async () => {
    expect(readFileSync(`${REPO}/src/backends/webgpu/wgsl.ts`, 'utf8')).toBe(await (await gen()).generate());
  });

  it('includes: appended after the kernel (its line numbers kept), each once, nested ones too', async () => {
    const { expand } = await gen();
    const text = '// #include "bilinear.wgsl": bilinear\n// #include "opaque.wgsl": opaque\nfn main() {}\n';
    const out = expand(text, 'kernels/x.wgsl');
    expect(out.startsWith(text)).toBe(true);
    for (const fn of ['main', 'bilinear', 'fma_exact', 'split', 'opaque'])
      expect(out.match(new RegExp(`^fn ${fn}\\(`, 'gm')), fn).toHaveLength(1);
    expect(() => expand('fn a() {}\n// #include "nothing.wgsl"\n', 'kernels/x.wgsl')).toThrow(
      /kernels\/x.wgsl: includes nothing.wgsl, which is not in kernels\/common/,
    );
    expect(() => expand('// #include linear.wgsl\n', 'kernels/x.wgsl')).toThrow(/kernels\/x.wgsl:1: expected/);
  });

  it('every kernels/common snippet is used, and no embedded kernel declares a function twice', async () => {
    const { WGSL } = await import('../src/backends/webgpu/wgsl.js');
    const sources = Object.values(WGSL);
    for (const name of readdirSync(`${REPO}/kernels/common`))
      expect(
        sources.some((s) => s.includes(`// ---- kernels/common/${name} ----`)),
        name,
      ).toBe(true);
    for (const [op, s] of Object.entries(WGSL)) {
      const fns = [...s.matchAll(/^fn (\w+)\(/gm)].map((m) => m[1]);
      expect(fns.length, op).toBeGreaterThan(0);
      expect(fns.length, `${op}: ${fns.join(' ')}`).toBe(new Set(fns).size);
    }
  });
});

describe('shared host pieces', () => {
  it('f32Below: comparing in f32 with it equals comparing with the double', () => {
    for (const x of [0.45, 0.5, 1 / 3, 0.7, -0.1, 1e-40, -1e-50, 0, 1, Infinity, -Infinity]) {
      const t = f32Below(x);
      expect(Math.fround(t)).toBe(t);
      expect(t <= x).toBe(true);
      const up = new Float32Array([t]);
      const bits = new Uint32Array(up.buffer);
      if (Number.isFinite(t) && t !== x) {
        bits[0] = t >= 0 ? bits[0]! + 1 : bits[0]! - 1; // the next f32 above t
        expect(up[0]! > x).toBe(true);
      }
    }
  });

  it('BufferPool size classes are powers of two from 256 bytes', () => {
    expect([1, 256, 257, 4096, 5000].map(BufferPool.sizeClass)).toEqual([256, 256, 512, 4096, 8192]);
  });
});

run('webgpu device', () => {
  it('reports the adapter and flags a software one; auto then prefers the native cpu backend', async () => {
    const st = backendStatus('webgpu');
    expect(st.reason).toContain(st.device!);
    if (/llvmpipe|lavapipe|swiftshader/i.test(st.device!)) expect(st.software).toBe(true);
    const r = rng(3);
    const n = 5000;
    const boxes = new Float32Array(n * 4).map((_, i) => (i % 4 < 2 ? r() * 1000 : 0));
    for (let i = 0; i < n; i++)
      ((boxes[i * 4 + 2]! += boxes[i * 4]! + 20), (boxes[i * 4 + 3]! += boxes[i * 4 + 1]! + 20));
    const scores = new Float32Array(n).map(() => r());
    const auto = await nms(boxes, scores);
    if (st.software) expect(auto.backend).not.toBe('webgpu');
    const gpu = await nms(boxes, scores, { backend: 'webgpu' });
    expect(gpu.backend).toBe('webgpu');
    expect(gpu.indices).toEqual(auto.indices);
  });

  it('compiles each pipeline once, whatever the sizes', async () => {
    const ctx = (await initBackend('webgpu'), getKernel('nms', 'webgpu'))!;
    const small = { boxes: new Float32Array([0, 0, 1, 1, 0, 0, 1, 1]), scores: new Float32Array([0.5, 0.4]) };
    const args = (b: Float32Array, s: Float32Array) => ({
      boxes: b,
      scores: s,
      classes: null,
      iouThreshold: 0.5,
      scoreThreshold: -Infinity,
      maxCandidates: s.length,
      maxDetections: s.length,
    });
    await ctx.run(args(small.boxes, small.scores));
    const gpu = await gpuContext();
    const count = gpu.pipelineCount;
    const big = new Float32Array(4 * 3000).map((_, i) => (i % 4 < 2 ? i : i + 5));
    await ctx.run(args(big, new Float32Array(3000).fill(0.25)));
    expect(gpu.pipelineCount).toBe(count);
  });

  it('folds dispatches past the per-dimension limit', async () => {
    const gpu = await gpuContext();
    const max = gpu.limits.maxComputeWorkgroupsPerDimension;
    expect(gpu.fold(10)).toEqual([10, 1]);
    expect(gpu.fold(max)).toEqual([max, 1]);
    const [x, y] = gpu.fold(max * 3 + 7);
    expect(x).toBeLessThanOrEqual(max);
    expect(x * y).toBeGreaterThanOrEqual(max * 3 + 7);
    expect(gpu.cover(gpu.workgroupSize * 5 + 1)).toEqual([6, 1]);
  });

  it('builds and scans the IoU mask in many row blocks with the same result', async () => {
    const r = rng(11);
    const n = 3000;
    const boxes = new Float32Array(n * 4);
    for (let i = 0; i < n; i++) {
      const x = Math.round(r() * 300),
        y = Math.round(r() * 300),
        s = 4 + Math.round(r() * 30);
      boxes.set([x, y, x + s, y + s], i * 4);
    }
    const scores = new Float32Array(n).map(() => Math.round(r() * 50) / 50);
    const classes = new Int32Array(n).map(() => Math.floor(r() * 3));
    const args = {
      boxes,
      scores,
      classes,
      iouThreshold: 0.3,
      scoreThreshold: 0.1,
      maxCandidates: 2500,
      maxDetections: 400,
    };
    const old = setMaskBlockBytes(32 * 4 * 4 * 10); // 10 words x 4 rows... rounded up to 32-row blocks
    try {
      const got = await getKernel('nms', 'webgpu')!.run(args);
      expect(Array.from(got)).toEqual(Array.from(nmsReference(args)));
    } finally {
      setMaskBlockBytes(old);
    }
  });

  it('counts dice pixels across many workgroups and unaligned class starts as the reference', async () => {
    const r = rng(21);
    const [classes, h, w] = [3, 301, 257]; // pixels per class not a multiple of 4
    const img = () => new Uint8Array(classes * h * w).map(() => (r() < 0.3 ? Math.floor(r() * 255) : 0));
    const args = { pred: [img(), img()], truth: [img(), img()], classes, pixels: h * w };
    const want = await getKernel('dice', 'js')!.run(args);
    expect(Array.from(await getKernel('dice', 'webgpu')!.run(args))).toEqual(Array.from(want));
  });

  it('disposes the device and acquires a new one on the next use', async () => {
    await disposeBackends();
    expect(backendStatus('webgpu').available).toBe(false);
    const b = new Float32Array([0, 0, 10, 10, 1, 1, 11, 11]);
    const r = await nms(b, new Float32Array([0.9, 0.8]), { backend: 'webgpu' });
    expect(Array.from(r.indices)).toEqual([0]);
    expect(backendStatus('webgpu').available).toBe(true);
  });

  it('survives garbage collection while a device is in use (the Dawn instance stays referenced)', () => {
    const code = `
      const { nms, initBackends } = await import('./src/index.ts');
      await initBackends(['webgpu']);
      const b = new Float32Array(4 * 2000);
      for (let k = 0; k < 2000; k++) { const x = (k * 37) % 500, y = (k * 91) % 500; b.set([x, y, x + 30, y + 30], 4 * k); }
      const s = new Float32Array(2000).map((_, i) => ((i * 13) % 97) / 97);
      let kept = -1;
      for (let k = 0; k < 5; k++) {
        globalThis.gc(); await new Promise((r) => setTimeout(r, 20)); globalThis.gc();
        const r = await nms(b, s, { backend: 'webgpu', iouThreshold: 0.5 });
        if (kept >= 0 && r.indices.length !== kept) throw new Error('results differ');
        kept = r.indices.length;
      }
      console.log('kept', kept);`;
    const r = spawnSync(process.execPath, ['--expose-gc', '--import', 'tsx', '--input-type=module', '-e', code], {
      cwd: REPO,
      encoding: 'utf8',
      timeout: 120_000,
    });
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^kept \d+/m);
  }, 150_000);
});

/** The initialised backend's context (the registry hands it to kernels; tests reach it through a kernel). */
async function gpuContext(): Promise<GpuContext> {
  await initBackend('webgpu');
  let seen: GpuContext | null = null;
  const { registerKernels } = await import('../src/backends/registry.js');
  registerKernels([
    { op: 'iou', backend: 'webgpu', run: (_a: unknown, ctx: GpuContext) => ((seen = ctx), new Float32Array(0)) },
  ]);
  await getKernel('iou', 'webgpu')!.run({ a: new Float32Array(0), b: new Float32Array(0) });
  return seen!;
}
