/**
 * The dispatch observer: every dispatched op is reported with the backend that ran it, so commands
 * run under `auto` name the real backends in their summary (also for ops called inside a pipeline).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { onDispatch, type BackendName } from '../src/backends/registry.js';
import { nms } from '../src/ops/nms.js';
import { cli } from './cliRun.js';
import { REPO } from './helpers.js';

describe('onDispatch', () => {
  it('reports each dispatched op and the backend that ran it, until unsubscribed', async () => {
    const seen: [string, BackendName][] = [];
    const stop = onDispatch((op, backend) => seen.push([op, backend]));
    const boxes = new Float32Array([0, 0, 10, 10, 1, 1, 11, 11]);
    await nms(boxes, new Float32Array([0.9, 0.8]), { backend: 'js' });
    stop();
    await nms(boxes, new Float32Array([0.9, 0.8]), { backend: 'js' });
    expect(seen).toEqual([['nms', 'js']]);
  });
});

describe('CLI summaries under auto', () => {
  it('segment names the backends its post-process actually ran on, not just "auto"', async () => {
    const fix = join(REPO, 'test/fixtures/models');
    const out = join(mkdtempSync(join(tmpdir(), 'maskbox-observer-')), 's.csv');
    const r = await cli([
      'segment',
      join(fix, 'seg.png'),
      '--model',
      join(fix, 'tiny_seg_fold0.onnx'),
      '--out',
      out,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const backend = String(JSON.parse(r.stdout).backend ?? JSON.parse(r.stdout).info?.backend);
    expect(backend).toMatch(/^auto \((js|cpu|cuda|webgpu)(, (js|cpu|cuda|webgpu))*\)$/);
  });
});
