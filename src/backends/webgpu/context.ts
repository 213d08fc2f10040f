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
  private readonly pipelines = new Map<string, Promise<GPUComputePipeline>>();
  /** Validation errors no one caught (a bind group missing a binding, ...): `read()` reports them. */
  private readonly uncaptured: string[] = [];

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
    // Otherwise a failed dispatch is skipped silently and its pooled output keeps stale data.
    device.onuncapturederror = (e: GPUUncapturedErrorEvent) => this.uncaptured.push(e.error.message);
  }

  /**
   * The compute pipeline for `op`'s entry point with these code-changing options, compiled once.
   * `code` is the op's WGSL (kernels/<op>.wgsl); `constants` are its override constants (`WG` is set
   * here). Rejects with the compiler's messages when the WGSL or the pipeline is invalid.
   */
  pipeline(
    op: string,
    code: string,
    entryPoint = 'main',
    constants: Record<string, number> = {},
  ): Promise<GPUComputePipeline> {
    const all = { WG: this.workgroupSize, ...constants };
    const key = `${op}\u0000${entryPoint}\u0000${JSON.stringify(all)}`;
    let p = this.pipelines.get(key);
    if (!p) {
      p = this.compile(op, code, entryPoint, all);
      this.pipelines.set(key, p);
      p.catch(() => this.pipelines.delete(key));
    }
    return p;
  }

  private async compile(op: string, code: string, entryPoint: string, constants: Record<string, number>) {
    const module = this.device.createShaderModule({ label: op, code });
    const info = await module.getCompilationInfo();
    const errors = info.messages.filter((m) => m.type === 'error');
    if (errors.length > 0) {
      const text = errors.map((m) => `kernels/${op}.wgsl:${m.lineNum}:${m.linePos}: ${m.message}`).join('; ');
      throw new Error(`WGSL compilation failed: ${text}`);
    }
    return this.device.createComputePipelineAsync({
      label: `${op}:${entryPoint}`,
      layout: 'auto',
      compute: { module, entryPoint, constants },
    });
  }

  /** Number of pipelines compiled so far (tests check the cache ignores shapes). */
  get pipelineCount(): number {
    return this.pipelines.size;
  }

  /**
   * Workgroup counts for `groups` workgroups, folded into 2-D past the per-dimension limit (65,535
   * by default). Shaders rebuild the linear index as `wid.x + wid.y * nwg.x` (kernels/common/linear.wgsl).
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
    pack(view, 0, values);
    const buf = this.pool.acquire(bytes, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(buf, 0, view.buffer);
    return buf;
  }

  /**
   * A bind group for `pipeline`'s group 0: `entries[binding]` is a buffer or a buffer range. List
   * exactly the bindings the entry point uses (layout 'auto' holds only those).
   */
  bind(pipeline: GPUComputePipeline, entries: Record<number, GPUBuffer | GPUBufferBinding>): GPUBindGroup {
    return this.device.createBindGroup({
      layout: pipeline.getBindGroupLayout(0),
      entries: Object.entries(entries).map(([binding, b]) => ({
        binding: Number(binding),
        resource: 'buffer' in b ? b : { buffer: b },
      })),
    });
  }

  /**
   * One uniform buffer holding several parameter blocks (one per dispatch of a chain), each at a
   * 256-byte aligned offset; `slot(i)` is the binding of block i.
   */
  uniformBlocks(blocks: readonly (readonly Uniform[])[]): { buffer: GPUBuffer; slot(i: number): GPUBufferBinding } {
    const stride = Math.max(256, this.limits.minUniformBufferOffsetAlignment);
    const size = Math.max(...blocks.map((b) => Math.ceil((b.length * 4) / 16) * 16), 16);
    const view = new DataView(new ArrayBuffer(stride * blocks.length));
    blocks.forEach((values, k) => pack(view, k * stride, values));
    const buffer = this.pool.acquire(view.byteLength, GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST);
    this.device.queue.writeBuffer(buffer, 0, view.buffer);
    return { buffer, slot: (i) => ({ buffer, offset: i * stride, size }) };
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
      if (this.uncaptured.length > 0) {
        const messages = this.uncaptured.splice(0).join('; ');
        throw new Error(`WebGPU validation failed before this read: ${messages}`);
      }
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

function pack(view: DataView, at: number, values: readonly Uniform[]): void {
  values.forEach((v, i) => {
    if ('u32' in v) view.setUint32(at + i * 4, v.u32, true);
    else if ('i32' in v) view.setInt32(at + i * 4, v.i32, true);
    else view.setFloat32(at + i * 4, v.f32, true);
  });
}

/**
 * The largest float32 not above `x`: comparing a float32 value `v > f32Below(x)` in f32 gives the
 * same answer as comparing `v > x` in double (how DESIGN.md asks f32-only code to apply thresholds).
 */
export function f32Below(x: number): number {
  const f = Math.fround(x);
  if (f <= x) return f;
  const view = new DataView(new ArrayBuffer(4));
  view.setFloat32(0, f);
  const bits = view.getUint32(0);
  // f > x: step one ulp towards -infinity (f is finite here since x is not NaN)
  view.setUint32(0, f > 0 ? bits - 1 : f === 0 ? 0x80000001 : bits + 1);
  return view.getFloat32(0);
}

export function roundUp4(n: number): number {
  return Math.ceil(n / 4) * 4;
}

function padTo4(bytes: Uint8Array<ArrayBuffer>): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(roundUp4(bytes.byteLength));
  out.set(bytes);
  return out;
}
