/**
 * The device-tensor contract every backend with DeviceTensors meets (webgpuDevice.test.ts,
 * cudaDevice.test.ts): nms on boxes and scores held on the device keeps what the host call keeps,
 * leaves the inputs untouched, refuses mixed or mismatched inputs, and refuses disposed tensors.
 */
import { expect } from 'vitest';
import type { DeviceTensor } from '../src/ops/deviceTensor.js';
import { nms, type NmsOptions } from '../src/ops/nms.js';
import { InvalidArgumentError } from '../src/errors.js';
import { rng } from './helpers.js';

/** n random boxes in a 600² frame (sides 5-45) and uniform scores. */
export function randomBoxes(seed: number, n: number): { boxes: Float32Array; scores: Float32Array } {
  const r = rng(seed);
  const boxes = new Float32Array(4 * n);
  for (let i = 0; i < n; i++) {
    const x = r() * 600,
      y = r() * 600,
      s = 5 + r() * 40;
    boxes.set([x, y, x + s, y + s], 4 * i);
  }
  return { boxes, scores: Float32Array.from({ length: n }, () => r()) };
}

export async function expectNmsOnDevice(
  upload: (data: Float32Array) => DeviceTensor | Promise<DeviceTensor>,
  location: DeviceTensor['location'],
  n: number,
  optionSets: NmsOptions[],
): Promise<void> {
  const { boxes, scores } = randomBoxes(42, n);
  const b = await upload(boxes);
  const s = await upload(scores);
  try {
    for (const opts of optionSets) {
      const host = await nms(boxes, scores, { ...opts, backend: 'js' });
      const dev = await nms(b, s, opts);
      expect(dev.backend).toBe(location);
      expect(Array.from(dev.indices)).toEqual(Array.from(host.indices));
    }
    expect(Array.from(await s.read())).toEqual(Array.from(scores)); // still the caller's, untouched
    await expect(nms(b, s, { backend: 'cpu' })).rejects.toBeInstanceOf(InvalidArgumentError);
    await expect(nms(b, scores)).rejects.toBeInstanceOf(InvalidArgumentError);
    const short = await upload(scores.subarray(0, 10));
    await expect(nms(b, short)).rejects.toThrow(/Expected 40 float32 values for boxes/);
    short.dispose();
  } finally {
    b.dispose();
    s.dispose();
  }
  await expect(nms(b, s)).rejects.toThrow(/disposed/);
}
