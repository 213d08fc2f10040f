/**
 * Loads the CUDA kernels and says exactly why when they cannot run.
 *
 * Two builds serve `backend: 'cuda'`:
 * - the real one: `addon.cuda` of the native addon (bindings/native.ts) when it was built with nvcc
 *   (native/cuda/*.cu, cudart linked statically). Usable when `cudaGetDeviceCount` returns 0 (success)
 *   with at least one device; any other code means "no CUDA" and its name and text are the reason
 *   (35, `cudaErrorInsufficientDriver`, on machines without a driver).
 * - the emulated one: `build/Release/maskbox-emu.node`, the same .cu files compiled by g++ against the
 *   CPU emulation of CUDA (native/cuda/emu). For tests and CI only: reported as EMULATED and
 *   `software` (src/backends/cuda/index.ts), so `auto` never picks it; `backend: 'cuda'` still runs it.
 *
 * `MASKBOX_CUDA` chooses: `emu` (the emulated build), `real` (the GPU build only), `off`; unset: the
 * GPU build when a device is usable, else the emulated build under tests or CI (VITEST or CI set).
 * `MASKBOX_CUDA_EMU_PATH` loads another emulated build.
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { loadNative, nativePath, nativeStatus } from './native.js';

/** What `cuda.status()` reports: cudaGetDeviceCount's code and the first device. */
export interface CudaDeviceStatus {
  /** cudaGetDeviceCount's return value (0 = success). */
  code: number;
  /** `cudaErrorName: text` when code is not 0. */
  error: string;
  count: number;
  name: string;
  major: number;
  minor: number;
  /** The CPU emulation, not a GPU. */
  emulated: boolean;
}

/** The `cuda` object of an addon (native/cuda/addon_cuda.cc). */
export interface CudaAddon {
  status(): CudaDeviceStatus;
  /** Ops this build has CUDA kernels for. */
  ops: string[];
  emulated: boolean;
  [op: string]: unknown;
}

export interface CudaStatus {
  available: boolean;
  /** The exact reason it is unavailable, or a one-line description of the build in use. */
  reason: string;
  emulated: boolean;
  /** The .node file in use (or that would be). */
  path: string;
  device?: CudaDeviceStatus;
}

/** Where the emulated build is looked for. */
export function cudaEmuPath(): string {
  const override = process.env.MASKBOX_CUDA_EMU_PATH;
  return override ? resolve(override) : join(dirname(nativePath()), 'maskbox-emu.node');
}

function flag(name: string): boolean {
  const v = process.env[name];
  return v !== undefined && v !== '' && v !== '0';
}

let cached: { addon: CudaAddon | null; status: CudaStatus } | undefined;

function realCuda(): { addon: CudaAddon | null; status: CudaStatus } {
  const path = nativePath();
  const native = loadNative();
  if (!native)
    return { addon: null, status: { available: false, emulated: false, path, reason: nativeStatus().reason } };
  const cuda = native.cuda as CudaAddon | undefined;
  if (!cuda || !native.info().cuda) {
    const reason =
      'the native addon was built without CUDA (no nvcc found at build time, or -DMASKBOX_CUDA=OFF): install the CUDA toolkit and run `npm run build:native`';
    return { addon: null, status: { available: false, emulated: false, path, reason } };
  }
  const device = cuda.status();
  if (device.code !== 0) {
    const reason = `cudaGetDeviceCount returned ${device.code} (${device.error}): no usable CUDA driver/GPU`;
    return { addon: null, status: { available: false, emulated: false, path, reason, device } };
  }
  if (device.count === 0) {
    return {
      addon: null,
      status: { available: false, emulated: false, path, reason: 'cudaGetDeviceCount found 0 devices', device },
    };
  }
  const reason = `CUDA on ${device.name} (sm_${device.major}${device.minor}, ${device.count} device${device.count > 1 ? 's' : ''}): ${path}`;
  return { addon: cuda, status: { available: true, emulated: false, path, reason, device } };
}

function emulatedCuda(why: string): { addon: CudaAddon | null; status: CudaStatus } {
  const path = cudaEmuPath();
  if (!existsSync(path)) {
    const reason = `${why}; the emulated CUDA build is missing (${path}): run \`node scripts/build-native.mjs --emu\``;
    return { addon: null, status: { available: false, emulated: true, path, reason } };
  }
  let addon: CudaAddon;
  try {
    addon = (createRequire(import.meta.url)(path) as { cuda: CudaAddon }).cuda;
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    return {
      addon: null,
      status: {
        available: false,
        emulated: true,
        path,
        reason: `${why}; the emulated CUDA build failed to load (${path}): ${text}`,
      },
    };
  }
  const device = addon.status();
  const reason = `EMULATED: CUDA kernels on the CPU emulation (${device.name}; tests only, never chosen by auto; ${why}): ${path}`;
  return { addon, status: { available: true, emulated: true, path, reason, device } };
}

function load(): { addon: CudaAddon | null; status: CudaStatus } {
  const mode = process.env.MASKBOX_CUDA ?? '';
  if (mode === 'off' || mode === '0') {
    return {
      addon: null,
      status: { available: false, emulated: false, path: nativePath(), reason: `disabled by MASKBOX_CUDA=${mode}` },
    };
  }
  if (mode === 'emu') return emulatedCuda('MASKBOX_CUDA=emu');
  const real = realCuda();
  if (real.status.available || mode === 'real') return real;
  if (flag('CI') || flag('VITEST')) return emulatedCuda(`no GPU (${real.status.reason})`);
  return real;
}

/** The CUDA kernels in use (real or emulated), or null (see `cudaStatus()`). Cached. */
export function loadCuda(): CudaAddon | null {
  cached ??= load();
  return cached.addon;
}

/** Whether the cuda backend can run, which build serves it, and the exact reason when it cannot. */
export function cudaStatus(): CudaStatus {
  cached ??= load();
  return cached.status;
}

/** `true` when the CUDA build in use has a kernel for `op`, else the reason. */
export function cudaHasOp(op: string): true | string {
  const addon = loadCuda();
  if (!addon) return cudaStatus().reason;
  if (typeof addon[op] !== 'function')
    return `the CUDA build at ${cudaStatus().path} has no '${op}' kernel (built from older sources)`;
  return true;
}
