/** Acquires WebGPU in a browser: `navigator.gpu`, or the reason it is missing. No Node imports. */
import type { GpuSource } from '../src/backends/webgpu/device.js';

export async function browserGpu(): Promise<GpuSource> {
  const nav = (globalThis as { navigator?: { gpu?: GPU } }).navigator;
  if (!nav?.gpu) {
    return {
      gpu: null,
      reason:
        'navigator.gpu is missing: this browser has no WebGPU (Chromium needs a secure context; headless Chromium needs --enable-unsafe-webgpu)',
    };
  }
  return { gpu: nav.gpu, origin: 'navigator.gpu' };
}
