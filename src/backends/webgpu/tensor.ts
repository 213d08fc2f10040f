/**
 * The WebGPU backend's DeviceTensor (src/ops/deviceTensor.ts): a pooled storage buffer of the backend's
 * context that a kernel left on the device, with the caller as its owner.
 */
import type { DeviceTensor } from '../../ops/deviceTensor.js';
import type { GpuContext } from './context.js';

export class GpuTensor implements DeviceTensor {
  readonly location = 'webgpu' as const;
  private live = true;
  constructor(
    readonly ctx: GpuContext,
    readonly buffer: GPUBuffer,
    readonly length: number,
  ) {}

  /** Copies `data` to the device (tests and callers that produce device inputs on the host). */
  static fromHost(ctx: GpuContext, data: Float32Array): GpuTensor {
    return new GpuTensor(ctx, ctx.upload(data), data.length);
  }

  get disposed(): boolean {
    return !this.live;
  }

  async read(): Promise<Float32Array> {
    if (!this.live) throw new Error('read() of a disposed device tensor');
    return new Float32Array(await this.ctx.read(this.buffer, this.length * 4));
  }

  dispose(): void {
    if (!this.live) return;
    this.live = false;
    this.ctx.release(this.buffer);
  }
}

/** The buffer of a device tensor made on this context, or an error naming the argument. */
export function deviceBuffer(name: string, t: DeviceTensor, ctx: GpuContext): GPUBuffer {
  if (!(t instanceof GpuTensor) || t.ctx !== ctx || t.disposed)
    throw new RangeError(`${name}: a device tensor of this WebGPU device (live) is required`);
  return t.buffer;
}
