/**
 * A float32 array that stays on a GPU device between ops (the WebGPU backend's buffers, or the cuda
 * backend's device memory), so that a chain such as letterbox -> model -> post-process need not copy
 * through the host. Opt-in: ops return one only when asked (`letterbox(..., { output: 'gpu' })`) and
 * take one where documented (`nms`); the op runs on the backend that holds the tensor.
 * The caller owns it: `read()` copies it to the host, `dispose()` returns its memory (idempotent).
 */
import { InvalidArgumentError } from '../errors.js';

/** Backends that keep tensors on a device. */
export const DEVICE_LOCATIONS = ['webgpu', 'cuda'] as const;
export type DeviceLocation = (typeof DEVICE_LOCATIONS)[number];

export interface DeviceTensor {
  /** The backend whose device holds it. */
  readonly location: DeviceLocation;
  /** float32 elements. */
  readonly length: number;
  readonly disposed: boolean;
  /** A host copy (rejects after dispose()). */
  read(): Promise<Float32Array>;
  /** Releases the device memory; later reads reject. */
  dispose(): void;
}

export function isDeviceTensor(x: unknown): x is DeviceTensor {
  return (
    typeof x === 'object' && x !== null && DEVICE_LOCATIONS.includes((x as DeviceTensor).location) && 'dispose' in x
  );
}

/** Checks a device tensor argument: live, of `length` elements when given. */
export function checkDeviceTensor(name: string, x: DeviceTensor, length?: number): DeviceTensor {
  if (x.disposed) throw new InvalidArgumentError(name, `Expected a live device tensor for ${name} but it was disposed`);
  if (length !== undefined && x.length !== length)
    throw new InvalidArgumentError(name, `Expected ${length} float32 values for ${name} but received ${x.length}`);
  return x;
}
