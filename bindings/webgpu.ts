/**
 * Acquires WebGPU in Node through the `webgpu` package (Google's Dawn, prebuilt `dawn.node` for
 * linux-x64/arm64, darwin and win32; on Linux it loads the system's `libvulkan.so.1`).
 *
 * The object `create()` returns must stay referenced for as long as a device made from it is in use:
 * when V8 collects it, Dawn crashes the process (SIGSEGV in CallbackTaskManager::Flush, "futex facility
 * returned an unexpected error code", std::system_error) or hangs. It is kept on `globalThis` (one per
 * process, shared by every copy of this module, e.g. under a test runner that re-imports modules) and
 * never released: `dispose()` destroys devices, not the instance.
 *
 * Environment: `MASKBOX_WEBGPU_ADAPTER=<name>` picks an adapter when several drivers are visible
 * (Dawn's `adapter=` toggle, e.g. `llvmpipe` or `SwiftShader`); `VK_DRIVER_FILES` chooses Vulkan drivers.
 */
import type { GpuSource } from '../src/backends/webgpu/device.js';

const INSTANCE = Symbol.for('maskbox.webgpu.dawnInstance');

interface DawnModule {
  create(options: string[]): GPU;
  globals: Record<string, unknown>;
}

/** Dawn's options from the environment. */
function dawnOptions(): string[] {
  const adapter = process.env.MASKBOX_WEBGPU_ADAPTER;
  return adapter ? [`adapter=${adapter}`] : [];
}

/**
 * The process's Dawn instance, created on first use and kept referenced for the life of the process.
 * Resolves with the reason when the package is missing or its binary does not load here.
 */
export async function nodeGpu(): Promise<GpuSource> {
  const g = globalThis as { [INSTANCE]?: GPU };
  if (g[INSTANCE]) return { gpu: g[INSTANCE], origin: 'Dawn (webgpu package)' };
  let dawn: DawnModule;
  try {
    dawn = (await import('webgpu')) as unknown as DawnModule;
  } catch (err) {
    const text = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return {
      gpu: null,
      reason: `the 'webgpu' package (Dawn) does not load: ${text} (install it with \`npm install webgpu\`)`,
    };
  }
  // GPUBufferUsage, GPUMapMode, ... as globals, as a browser has them (never overwriting existing ones).
  for (const [name, value] of Object.entries(dawn.globals)) {
    if (!(name in globalThis)) (globalThis as Record<string, unknown>)[name] = value;
  }
  g[INSTANCE] = dawn.create(dawnOptions());
  return { gpu: g[INSTANCE], origin: 'Dawn (webgpu package)' };
}

/** Whether this process holds a Dawn instance (tests check that it survives garbage collection). */
export function hasDawnInstance(): boolean {
  return (globalThis as { [INSTANCE]?: GPU })[INSTANCE] !== undefined;
}
