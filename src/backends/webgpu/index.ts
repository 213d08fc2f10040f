/**
 * The WebGPU backend: WGSL kernels (kernels/<op>.wgsl, embedded by kernels/index.ts) with their host
 * side in ./<op>.ts, on the shared pieces in ./context.ts and ./pool.ts. The entry points choose the
 * source of WebGPU: Dawn in Node (src/backends/index.ts), `navigator.gpu` in a browser (src/browser.ts).
 */
import type { KernelList } from '../registry.js';
import type { GpuContext } from './context.js';

export { webgpuBackend, type GpuSource } from './device.js';
export type { GpuContext } from './context.js';

/** Every WebGPU kernel, one entry per op. */
export const webgpuKernels: KernelList<GpuContext> = [];
