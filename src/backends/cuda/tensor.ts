/**
 * The cuda backend's DeviceTensor (src/ops/deviceTensor.ts): float32 values in device memory owned by an
 * addon handle (native/cuda/addon_tensor.cc), so ops chain on the device (letterbox -> ... -> nms) without
 * a host round trip. `dispose()` frees the memory at once (a call in flight keeps its own reference);
 * a tensor that is never disposed is freed when its handle is garbage-collected.
 */
import type { DeviceTensor } from '../../ops/deviceTensor.js';

/** An addon tensor handle (a type-tagged External; opaque here). */
export type CudaTensorHandle = { readonly __cudaTensor: unique symbol };

/** The device-tensor functions of the `cuda` object. */
export interface CudaTensorAddon {
  upload(o: { data: Float32Array }): Promise<CudaTensorHandle>;
  tensorRead(o: { tensor: CudaTensorHandle; out: Float32Array }): Promise<void>;
  tensorDispose(t: CudaTensorHandle): void;
  tensorLength(t: CudaTensorHandle): number;
}

export class CudaTensor implements DeviceTensor {
  readonly location = 'cuda' as const;
  readonly length: number;
  private live = true;
  constructor(
    readonly addon: CudaTensorAddon,
    readonly handle: CudaTensorHandle,
  ) {
    this.length = addon.tensorLength(handle);
  }

  /** Copies `data` to the device (through pinned staging). */
  static async fromHost(addon: CudaTensorAddon, data: Float32Array): Promise<CudaTensor> {
    return new CudaTensor(addon, await addon.upload({ data }));
  }

  get disposed(): boolean {
    return !this.live;
  }

  async read(): Promise<Float32Array> {
    if (!this.live) throw new Error('read() of a disposed device tensor');
    const out = new Float32Array(this.length);
    await this.addon.tensorRead({ tensor: this.handle, out });
    return out;
  }

  dispose(): void {
    if (!this.live) return;
    this.live = false;
    this.addon.tensorDispose(this.handle);
  }
}

/** The handle of a live cuda device tensor, or an error naming the argument. */
export function cudaHandle(name: string, t: DeviceTensor): CudaTensorHandle {
  if (!(t instanceof CudaTensor) || t.disposed) throw new RangeError(`${name}: a live cuda device tensor is required`);
  return t.handle;
}
