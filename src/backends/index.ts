/**
 * Node's backend wiring: registers js, cpu (the native addon) and webgpu (Dawn through the `webgpu`
 * package) in the registry, once. src/index.ts and the CLI call `wireBackends()`; the browser entry
 * (src/browser.ts) wires its own set. Ops never import this file: they depend on the registry only.
 *
 * - js: always.
 * - cpu: kernels registered when the addon loads; its status carries the loader's exact reason. When
 *   it does not load, `auto` runs JS and one notice goes to stderr, once per process (see cpu/index.ts).
 * - webgpu: Dawn's device, acquired on first use or by `initBackends()` (bindings/webgpu.ts).
 * - cuda: bindings/cuda.ts (the GPU build, or the CPU emulation in tests/CI: `software`, never chosen by `auto`).
 */
import { registerBackend } from './registry.js';
import { jsBackend, jsKernels } from './js/index.js';
import { jsScoringKernels } from './js/scoring.js';
import { cpuBackend, cpuKernels } from './cpu/index.js';
import { webgpuBackend, webgpuKernels } from './webgpu/index.js';
import { nativeStatus } from '../../bindings/native.js';
import { nodeGpu } from '../../bindings/webgpu.js';
import { cudaBackend, cudaKernels } from './cuda/index.js';

let wired = false;

/** Register every Node backend and its kernels (no output; idempotent). */
export function wireBackends(): void {
  if (wired) return;
  wired = true;
  registerBackend(jsBackend, [...jsKernels, ...jsScoringKernels]);
  registerBackend(cpuBackend, nativeStatus().available ? cpuKernels : []);
  registerBackend(webgpuBackend(nodeGpu), webgpuKernels);
  registerBackend(cudaBackend, cudaKernels);
}

/** The same as `wireBackends()` (kept for callers written before the entry points wired backends). */
export function ensureBackends(): void {
  wireBackends();
}
