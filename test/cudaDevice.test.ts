/**
 * Device-resident chaining on the cuda backend (native/cuda/addon_tensor.cc, src/backends/cuda/tensor.ts):
 * letterbox can leave its planes in device memory (`output: 'gpu'`, `backend: 'cuda'`), nms can take
 * boxes and scores there; tensors upload through pinned staging, read back and dispose. Under CI the
 * emulated build (maskbox-emu.node) runs it with its memory checks; without a cuda build it skips.
 */
import { describe, expect, it } from 'vitest';
import { loadCuda } from '../bindings/cuda.js';
import { backendStatus } from '../src/backends/registry.js';
import { CudaTensor, type CudaTensorAddon } from '../src/backends/cuda/tensor.js';
import { letterbox } from '../src/ops/letterbox.js';
import { nms } from '../src/ops/nms.js';
import { rng } from './helpers.js';
import { randomImage } from './preprocessFixtures.js';
import { expectNmsOnDevice } from './deviceTensorSpec.js';

const status = backendStatus('cuda');
const required = (process.env.MASKBOX_REQUIRE_BACKENDS ?? '').split(',').includes('cuda');
const run = status.available || required ? describe : describe.skip;
if (!status.available && !required) console.log(`cudaDevice.test: skipped: ${status.reason}`);
const tensors = () => loadCuda() as unknown as CudaTensorAddon;

run('device tensors (cuda)', () => {
  it('uploads and reads back exactly, at sizes that span several pinned staging chunks', async () => {
    const r = rng(7);
    for (const n of [0, 1, 1000, (4 << 20) / 4 + 3, 3 * (1 << 20) + 17]) {
      const data = Float32Array.from({ length: n }, () => r() * 2 - 1);
      const t = await CudaTensor.fromHost(tensors(), data);
      expect(t.location).toBe('cuda');
      expect(t.length).toBe(n);
      const back = await t.read();
      expect(Buffer.from(back.buffer).equals(Buffer.from(data.buffer)), `n = ${n}`).toBe(true);
      t.dispose();
      t.dispose(); // idempotent
      await expect(t.read()).rejects.toThrow(/disposed/);
    }
  });

  it("letterbox output: 'gpu' on cuda holds exactly the planes the host output gets", async () => {
    const img = randomImage(rng(41), 300, 200, 3);
    for (const percentiles of [undefined, [1, 99] as const]) {
      const host = await letterbox(img, { size: 160, backend: 'cpu', ...(percentiles ? { percentiles } : {}) });
      const dev = await letterbox(img, {
        size: 160,
        output: 'gpu',
        backend: 'cuda',
        ...(percentiles ? { percentiles } : {}),
      });
      expect(dev.backend).toBe('cuda');
      expect(dev.data.length).toBe(0);
      expect(dev.device!.location).toBe('cuda');
      expect(dev.device!.length).toBe(3 * 160 * 160);
      expect([dev.low, dev.high]).toEqual([host.low, host.high]);
      expect(Array.from(await dev.device!.read())).toEqual(Array.from(host.data));
      dev.device!.dispose();
    }
  });

  it('nms takes boxes and scores in device memory and keeps what the host call keeps', async () => {
    const classes = Int32Array.from({ length: 2000 }, (_, i) => i % 3);
    await expectNmsOnDevice((d) => CudaTensor.fromHost(tensors(), d), 'cuda', 2000, [
      { iouThreshold: 0.5, scoreThreshold: 0.1 },
      { iouThreshold: 0.3, classes, maxDetections: 50 },
    ]);
  });

  it('chains letterbox -> nms on the device (the planes as boxes: only the kept indices come back)', async () => {
    const img = { data: new Uint8Array(64 * 64 * 3).fill(200), width: 64, height: 64, channels: 3 };
    const planes = await letterbox(img, { size: 32, output: 'gpu', backend: 'cuda' });
    const n = planes.device!.length / 4;
    const scores = await CudaTensor.fromHost(tensors(), new Float32Array(n).fill(0.5));
    try {
      // Every "box" is [v, v, v, v] (zero area): none overlaps another, so all are kept, lowest index first.
      const kept = await nms(planes.device!, scores, { iouThreshold: 0.5 });
      expect(Array.from(kept.indices)).toEqual(Array.from({ length: n }, (_, i) => i));
    } finally {
      planes.device!.dispose();
      scores.dispose();
    }
  });

  it('rejects tensors of another device, foreign handles and wrong lengths with typed errors', async () => {
    const a = tensors() as unknown as Record<string, (...args: unknown[]) => unknown>;
    const t = await CudaTensor.fromHost(tensors(), new Float32Array(8));
    try {
      expect(() => a.tensorRead!({ tensor: t.handle, out: new Float32Array(7) })).toThrow(
        /tensor's length \(length 8\) for out but received length 7/,
      );
      expect(() => a.tensorRead!({ tensor: {}, out: new Float32Array(8) })).toThrow(/Expected a cuda device tensor/);
      expect(() => a.tensorDispose!(42)).toThrow(/maskbox native cuda tensorDispose: Expected a cuda device tensor/);
      expect(() => a.nmsOnDevice!({ boxes: t.handle, scores: t.handle, iouThreshold: 0.5 })).toThrow(
        /4 values per score/,
      );
      // A DeviceTensor-shaped object that is not one of the addon's: refused before any native call.
      const fake = (length: number) => ({
        location: 'cuda' as const,
        length,
        disposed: false,
        read: async () => new Float32Array(length),
        dispose: () => {},
      });
      await expect(nms(fake(8), fake(2))).rejects.toThrow(/live cuda device tensor is required/);
    } finally {
      t.dispose();
    }
  });
});
