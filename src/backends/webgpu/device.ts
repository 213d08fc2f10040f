/**
 * The WebGPU backend's lifecycle: one adapter and one device per process, acquired lazily from a
 * `GpuSource` (Dawn in Node, bindings/webgpu.ts; `navigator.gpu` in a browser, bindings/webgpuBrowser.ts),
 * reused by every kernel, released by `dispose()`. Its status names the adapter and says whether it
 * is a software implementation (lavapipe/llvmpipe, SwiftShader), which `auto` never picks.
 */
import type { Backend, BackendStatus } from '../registry.js';
import { GpuContext } from './context.js';

/** A WebGPU entry point (`navigator.gpu` in a browser, Dawn's instance in Node) or the reason there is none. */
export type GpuSource = { gpu: GPU; origin: string } | { gpu: null; reason: string };

/** How to get an adapter on a machine without one (printed by `maskbox doctor`). */
export const NO_ADAPTER_HELP =
  'without a GPU, a CPU Vulkan driver works: run scripts/setup-lavapipe.sh (Mesa 25 lavapipe, needs libvulkan1) and set VK_DRIVER_FILES to the file it prints';

/** The words an adapter's info uses for a software implementation. */
const SOFTWARE = /llvmpipe|lavapipe|swiftshader|software|cpu/i;

/** A readable adapter name from `GPUAdapterInfo` (fields vary by implementation). */
export function adapterName(info: GPUAdapterInfo): string {
  if (info.description) return info.description;
  const parts = [info.vendor, info.architecture, info.device].filter((s) => s && s.length > 0);
  return parts.join(' ') || 'unnamed adapter';
}

/** Whether the adapter is a software implementation (the spec's fallback flag, or a known CPU driver's name). */
export function isSoftwareAdapter(adapter: GPUAdapter): boolean {
  const info = adapter.info as GPUAdapterInfo & { isFallbackAdapter?: boolean };
  const legacy = (adapter as GPUAdapter & { isFallbackAdapter?: boolean }).isFallbackAdapter;
  const names = [info.description, info.vendor, info.architecture, info.device].join(' ');
  return info.isFallbackAdapter === true || legacy === true || SOFTWARE.test(names);
}

/** The `webgpu` backend for a source of WebGPU (Node's Dawn or the browser's `navigator.gpu`). */
export function webgpuBackend(source: () => Promise<GpuSource>): Backend<GpuContext> {
  let status: BackendStatus = {
    name: 'webgpu',
    available: false,
    initialised: false,
    reason: "not initialised yet: call initBackends() or pass backend: 'webgpu' (a device is acquired on first use)",
  };
  let ctx: GpuContext | null = null;
  const fail = (reason: string): null => {
    status = { name: 'webgpu', available: false, initialised: true, reason };
    return null;
  };
  return {
    name: 'webgpu',
    autoInit: false,
    status: () => status,
    async init() {
      const src = await source();
      if (src.gpu === null) return fail(src.reason);
      let adapter: GPUAdapter | null;
      try {
        adapter = await src.gpu.requestAdapter({ powerPreference: 'high-performance' });
      } catch (err) {
        return fail(`requestAdapter() failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      if (!adapter)
        return fail(`${src.origin} found no WebGPU adapter (requestAdapter() returned null); ${NO_ADAPTER_HELP}`);
      let device: GPUDevice;
      try {
        device = await adapter.requestDevice({ requiredLimits: wantedLimits(adapter) });
      } catch (err) {
        return fail(`requestDevice() failed: ${err instanceof Error ? err.message : String(err)}`);
      }
      const name = adapterName(adapter.info);
      const software = isSoftwareAdapter(adapter);
      ctx = new GpuContext(device, adapter, name);
      device.lost.then((info) => {
        if (info.reason === 'destroyed') return;
        ctx = null;
        fail(`the WebGPU device was lost (${info.reason}): ${info.message}`);
      });
      status = {
        name: 'webgpu',
        available: true,
        initialised: true,
        device: name,
        software,
        reason: `${src.origin}: ${name}${software ? ' (software adapter: auto prefers the native cpu backend; ask for webgpu by name)' : ''}`,
      };
      return ctx;
    },
    dispose() {
      ctx?.destroy();
      ctx = null;
      status = {
        ...status,
        available: false,
        initialised: false,
        reason: 'disposed: the next use acquires a device again',
      };
    },
  };
}

/** The adapter's own maxima for the limits the kernels lean on (the defaults are far lower). */
function wantedLimits(adapter: GPUAdapter): Record<string, number> {
  const l = adapter.limits;
  return {
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
    maxComputeWorkgroupSizeX: l.maxComputeWorkgroupSizeX,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxStorageBuffersPerShaderStage: l.maxStorageBuffersPerShaderStage,
  };
}
