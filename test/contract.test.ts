/**
 * The backend contract: one op table, ops that depend on the registry only, every op with a js kernel,
 * the addon exporting what the table says, backends' lifecycle and `auto`'s rule about software
 * adapters, and the browser entry free of Node imports (scripts/check-cycles.mjs).
 */
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { loadNative, nativeStatus } from '../bindings/native.js';
import { NODE_OP_NAMES, OP_NAMES } from '../src/ops/table.js';
import { NATIVE_OP_NAMES } from '../src/ops/nativeTable.js';
import {
  backendStatus,
  dispatch,
  getKernel,
  registerBackend,
  selectKernel,
  type Backend,
  type BackendStatus,
} from '../src/backends/registry.js';
import { cpuKernels } from '../src/backends/cpu/index.js';
import { webgpuKernels } from '../src/backends/webgpu/index.js';
import { nms } from '../src/ops/nms.js';
import { REPO } from './helpers.js';

describe('op table', () => {
  it('every op has a js kernel (the spec), and every registered kernel is an op of the table', () => {
    for (const op of [...OP_NAMES, ...NODE_OP_NAMES]) expect(getKernel(op, 'js'), op).toBeDefined();
    const ops = new Set<string>([...OP_NAMES, ...NODE_OP_NAMES]);
    for (const k of [...cpuKernels, ...webgpuKernels]) expect(ops.has(k.op), `${k.backend}:${k.op}`).toBe(true);
  });

  it('the native addon exports every function the table types', () => {
    const addon = loadNative();
    if (!addon) {
      if (process.env.MASKBOX_REQUIRE_NATIVE === '1') throw new Error(nativeStatus().reason);
      return; // reported by test/native.test.ts
    }
    const info = addon.info();
    for (const op of NATIVE_OP_NAMES) {
      expect(typeof addon[op], op).toBe('function');
      expect(info.ops, op).toContain(op);
    }
    for (const k of cpuKernels) expect(NATIVE_OP_NAMES as string[]).toContain(k.op);
  });
});

describe('imports', () => {
  it('npm run lint: no runtime import cycle, ops depend on the registry only, browser entry without node:', () => {
    const r = spawnSync(process.execPath, ['scripts/check-cycles.mjs'], { cwd: REPO, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('the browser entry typechecks with @webgpu/types and no Node types', () => {
    const tsc = `${REPO}/node_modules/typescript/bin/tsc`;
    const r = spawnSync(process.execPath, [tsc, '-p', 'tsconfig.browser.json'], { cwd: REPO, encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  }, 120_000);
});

describe('auto and software backends', () => {
  // A fake backend under the 'cuda' name (first in auto's order), with one nms kernel that marks its output.
  function fake(status: Omit<BackendStatus, 'name'>, autoInit = true): { inits: number } {
    const seen = { inits: 0 };
    const backend: Backend<string> = {
      name: 'cuda',
      autoInit,
      status: () => ({ name: 'cuda', ...status }),
      init: async () => (seen.inits++, 'ctx'),
      dispose: () => {},
    };
    registerBackend(backend, [
      // -8 would mean a run without the backend's context (a bug)
      { op: 'nms', backend: 'cuda', run: (_a, ctx) => Int32Array.of(ctx === 'ctx' ? -7 : -8) },
    ]);
    return seen;
  }
  const boxes = new Float32Array(4 * 100).map((_, i) => (i % 4 < 2 ? i : i + 10));
  const scores = new Float32Array(100).fill(0.5);

  it('auto skips a software adapter, but runs it when asked for by name (with its context)', async () => {
    fake({ available: true, reason: 'fake', software: true });
    expect((await nms(boxes, scores)).backend).not.toBe('cuda');
    const r = await nms(boxes, scores, { backend: 'cuda' });
    expect(r).toEqual({ indices: Int32Array.of(-7), backend: 'cuda' });
  });

  it('auto takes a hardware backend, initialising it once when it allows', async () => {
    const seen = fake({ available: true, reason: 'fake' });
    expect((await nms(boxes, scores)).backend).toBe('cuda');
    await nms(boxes, scores);
    expect(seen.inits).toBe(1);
  });

  it('auto does not initialise a backend whose init is costly; naming it does', async () => {
    const seen = fake({ available: true, reason: 'fake' }, false);
    const args = {
      boxes,
      scores,
      classes: null,
      iouThreshold: 0.5,
      scoreThreshold: -Infinity,
      maxCandidates: 100,
      maxDetections: 100,
    };
    expect(selectKernel('nms', args, 'auto', 100).backend).not.toBe('cuda');
    expect((await dispatch('nms', args, 'auto', 100)).backend).not.toBe('cuda');
    expect(seen.inits).toBe(0);
    expect((await dispatch('nms', args, 'cuda', 100)).result).toEqual(Int32Array.of(-7));
    expect(seen.inits).toBe(1);
    expect((await dispatch('nms', args, 'auto', 100)).backend).toBe('cuda'); // initialised now
  });

  it('an unavailable backend named explicitly fails with its reason', async () => {
    fake({ available: false, reason: 'no such device here' });
    await expect(nms(boxes, scores, { backend: 'cuda' })).rejects.toThrow(
      "backend 'cuda' is unavailable: no such device here",
    );
    expect(backendStatus('cuda').reason).toBe('no such device here');
  });
});
