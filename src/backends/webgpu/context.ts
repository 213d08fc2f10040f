/**
 * What every WebGPU kernel runs with (the backend's context): the device, a pipeline cache keyed by
 * op and code-changing options (never shapes: sizes travel as uniforms), a buffer pool, uniform
 * packing, dispatch folding past `maxComputeWorkgroupsPerDimension`, and the workgroup size chosen
 * from the adapter's limits (passed to shaders as the `WG` override constant).
 */
import { BufferPool } from './pool.js';

/** A value of a uniform struct: `u32`, `i32` or `f32` (in WGSL declaration order, 4 bytes each). */
export type Uniform = { u32: number } | { i32: number } | { f32: number };

export class GpuContext {
  readonly device: GPUDevice;
  readonly adapterName: string;
  readonly limits: GPUSupportedLimits;
  readonly pool: BufferPool;
  /** Invocations per workgroup for 1-D kernels: 256, or less where the adapter allows less. */
  readonly workgroupSize: number;
  private readonly pipelines = new Map<string, GPUComputePipeline>();

  constructor(device: GPUDevice, adapter: GPUAdapter, adapterName: string) {
    this.device = device;
    this.adapterName = adapterName;
    this.limits = device.limits;
    this.pool = new BufferPool(device);
    this.workgroupSize = Math.min(
      256,
      this.limits.maxComputeInvocationsPerWorkgroup,
      this.limits.maxComputeWorkgroupSizeX,
    );
    void adapter;
  }

  /**
   * The compute pipeline for `op`'s entry point with these code-changing options, compiled once.
   * `code` is the op's WGSL (kernels/<op>.wgsl); `constants` are its override constants (`WG` is set here).
   */
  pipeline(op: string, code: string, entryPoint = 'main', constants: Record<string, number> = {}): GPUComputePipeline {
    const all = { WG: this.workgroupSize, ...constants };
    const key = `${op}\u0000${entryPoint}\u0000${JSON.stringify(all)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      const module = this.device.createShaderModule({ label: op, code });
      p = this.device.createComputePipeline({
        label: `${op}:${entryPoint}`,
        layout: 'auto',
        compute: { module, entryPoint, constants: all },
      });
      this.pipelines.set(key, p);
    }
    return p;
  }

  /** Number of pipelines compiled so far (tests check the cache ignores shapes). */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /**
   * Workgroup counts for `groups` workgroups, folded into 2-D past the per-dimension limit (65,535
   * by default). Shaders rebuild the linear index as `wid.x + wid.y * nwg.x` (see kernels/*.wgsl).
   */
  fold(groups: number): [number, number] {
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (groups <= max) return [Math.max(1, groups), 1];
    const y = Math.ceil(groups / max);
    return [Math.ceil(groups / y), y];
  }

  /** Workgroups to cover `n` invocations of a 1-D kernel, folded. */
  cover(n: number): [number, number] {
    return this.fold(Math.ceil(n / this.workgroupSize));
  }

  /** A storage buffer holding `data` (from the pool; size rounded up, the tail left as is). */
  upload(data: ArrayBufferView, extraUsage = 0): GPUBuffer {
    const buf = this.pool.acquire(
      data.byteLength,
      GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC | extraUsage,
    );
    if (data.byteLength > 0) {
      // (a SharedArrayBuffer-backed view is copied by writeBuffer all the same)
      const bytes = new Uint8Array(data.buffer as ArrayBuffer, data.byteOffset, data.byteLength);
      // writeBuffer needs a multiple of 4 bytes.
      const padded = bytes.byteLength % 4 === 0 ? bytes : padTo4(bytes);
      this.device.queue.writeBuffer(buf, 0, padded);
    }
    return buf;
  }

  /** A zero-filled storage buffer of at least `bytes` bytes, from the pool. */
  zeros(bytes: number): GPUBuffer {
    const buf = this.pool.acquire(bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
    const enc = this.device.createCommandEncoder();
    enc.clearBuffer(buf, 0, roundUp4(bytes));
    this.device.queue.submit([enc.finish()]);
    return buf;
  }

  /** An uninitialised storage buffer of at least `bytes` bytes, from the pool (the kernel writes it all). */
  scratch(bytes: number): GPUBuffer {
    return this.pool.acquire(bytes, GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC);
  }

  /** A uniform buffer with `values` packed in order (each 4 bytes; the struct padded to 16). */
  uniforms(values: readonly Uniform[]): GPUBuffer {
    const bytes = Math.max(16, Math.ceil((values.length * 4) / 16) * 16);
    const view = new DataView(new ArrayBuffer(bytes));
    values.forEach((v, i) => {
      if ('u32' in v) view.setUint32(i * 4, v.u32, true);
      else if ('i32' in v) view.setInt32(i * 4, v.i32, true);
      else view.setFloat32(i * 4, v.f32, true);
    });
    const buf = this.pool.acquire(bytes, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(buf, 0, view.buffer);
    return buf;
  }

  /** A bind group for `pipeline`'s group 0 with `buffers` at bindings 0, 1, 2, ... */
  bind(pipeline: GPUComputePipeline, buffers: readonly GPUBuffer[]): GPUBindGroup {
    return this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: buffers.map((buffer, binding) => ({ binding, resource: { buffer } })),
    });
  }

  /** Record one dispatch of `pipeline` over `groups` (already folded) into `pass`. */
  static dispatch(
    pass: GPUComputePassEncoder,
    pipeline: GPUComputePipeline,
    group: GPUBindGroup,
    groups: readonly [number, number] | readonly [number, number, number],
  ): void {
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, group);
    pass.dispatchWorkgroups(groups[0], groups[1], groups[2] ?? 1);
  }

  /**
   * Copies `bytes` bytes of `src` (from `offset`) back to the host. The staging buffer is destroyed
   * in `finally`, whatever happens.
   */
  async read(src: GPUBuffer, bytes: number, offset = 0): Promise<ArrayBuffer> {
    const size = roundUp4(bytes);
    if (size === 0) return new ArrayBuffer(0);
    const staging = this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    try {
      const enc = this.device.createCommandEncoder();
      enc.copyBufferToBuffer(src, offset, staging, 0, size);
      this.device.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ);
      return staging.getMappedRange(0, size).slice(0, bytes);
    } finally {
      staging.destroy();
    }
  }

  /** Return buffers to the pool (their work was submitted; later submissions are queued after it). */
  release(...buffers: GPUBuffer[]): void {
    for (const b of buffers) this.pool.release(b);
  }

  /** Destroy the device and every pooled buffer. */
  destroy(): void {
    this.pipelines.clear();
    this.pool.clear();
    this.device.destroy();
  }
}

export function roundUp4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

function padTo4(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(roundUp4(bytes.byteLength));
  out.set(bytes);
  return out;
}
