/**
 * Wires every backend into the registry, once. Ops call `ensureBackends()` before dispatching.
 *
 * - js: always.
 * - cuda: bindings/cuda.ts (the GPU build, or the CPU emulation in tests/CI, never chosen by `auto`).
 * - cpu: the native addon (bindings/native.ts). Its probe reports the loader's exact reason; its
 *   kernels are registered only when the addon loads. When it does not, `auto` runs JS and one notice
 *   goes to stderr, once per process (not when MASKBOX_QUIET is set, nor under vitest).
 */
import { registerBackend, registerKernels } from './registry.js';
import { jsKernels } from './js/index.js';
import { cpuKernels } from './cpu/index.js';
import { nativeStatus } from '../../bindings/native.js';
import { cudaKernels } from './cuda/index.js';
import { cudaStatus } from '../../bindings/cuda.js';

let wired = false;

/** Register every backend's probe and kernels (no output). `backends()` and `maskbox doctor` use this. */
export function wireBackends(): void {
  if (wired) return;
  wired = true;
  registerKernels(jsKernels);
  registerBackend('cpu', () => {
    const s = nativeStatus();
    return { name: 'cpu', available: s.available, reason: s.reason };
  });
  if (nativeStatus().available) registerKernels(cpuKernels);
  // cuda: the GPU build, or the CPU emulation under tests/CI (reported as EMULATED, never chosen by auto).
  registerBackend('cuda', () => {
    const s = cudaStatus();
    return { name: 'cuda', available: s.available, reason: s.reason };
  });
  if (cudaStatus().available) registerKernels(cudaKernels());
}

/** What every op calls before dispatching: wires the backends, and notes a missing addon once. */
export function ensureBackends(): void {
  wireBackends();
  const native = nativeStatus();
  if (!native.available) noticeFallback(native.reason);
}

const NOTICE = Symbol.for('maskbox.nativeFallbackNotice');

/** One line on stderr, once per process, saying that `auto` runs JS and why. */
function noticeFallback(reason: string): void {
  const g = globalThis as { [NOTICE]?: boolean };
  if (g[NOTICE]) return;
  g[NOTICE] = true;
  const quiet = process.env.MASKBOX_QUIET;
  if ((quiet !== undefined && quiet !== '' && quiet !== '0') || process.env.VITEST) return;
  process.stderr.write(
    `maskbox: native CPU backend unavailable, using JavaScript kernels: ${reason} (set MASKBOX_QUIET=1 to hide this)\n`,
  );
}
