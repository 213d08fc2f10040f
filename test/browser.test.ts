/**
 * The browser entry (src/browser.ts, bundled by scripts/build-browser.mjs) in headless Chromium
 * (Debian's `chromium` driven by playwright-core; WebGPU on SwiftShader with --enable-unsafe-webgpu):
 * NMS, letterbox and the DBSCAN baseline on the page's WebGPU device, and logitsToRle, give what Node
 * gives. Skips with the reason outside CI when Chromium is missing; MASKBOX_REQUIRE_BROWSER=1 (CI) turns that into a failure.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { nms } from '../src/ops/nms.js';
import { logitsToRle } from '../src/ops/logitsToRle.js';
import { letterbox } from '../src/ops/letterbox.js';
import { dbscanBaseline } from '../src/ops/baseline.js';
import { REPO, rng } from './helpers.js';

const CHROMIUM = process.env.MASKBOX_CHROMIUM ?? '/usr/bin/chromium';
const REQUIRED = process.env.MASKBOX_REQUIRE_BROWSER === '1';
const HAVE = existsSync(CHROMIUM);

/** Random boxes on a grid (many exact IoU ties with the threshold) and tied scores. */
function inputs() {
  const r = rng(5);
  const n = 3000;
  const boxes = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    const x = Math.round(r() * 400) / 2,
      y = Math.round(r() * 400) / 2,
      s = 4 + Math.round(r() * 40) / 2;
    boxes.set([x, y, x + s, y + s], i * 4);
  }
  const scores = new Float32Array(n).map(() => Math.round(r() * 100) / 100);
  const classes = new Int32Array(n).map(() => Math.floor(r() * 3));
  const [c, h, w] = [3, 24, 20];
  const logits = new Float32Array(c * h * w).map(() => (r() - 0.5) * 8);
  // a 23x17 RGB image: bright squares on noise (letterbox, and the baseline's filter + clustering)
  const pixels = new Uint8Array(23 * 17 * 3).map(() => Math.floor(r() * 60));
  for (const [x0, y0] of <[number, number][]>[
    [2, 2],
    [12, 8],
    [15, 1],
  ])
    for (let y = y0; y < y0 + 5; y++)
      for (let x = x0; x < x0 + 5; x++) pixels.fill(230, 3 * (y * 23 + x), 3 * (y * 23 + x) + 3);
  return { boxes, scores, classes, logits, c, h, w, pixels };
}

interface PageResult {
  status: { available: boolean; reason: string };
  gpu: { backend: string; indices: number[] } | null;
  js: number[];
  seg: { backend: string; rle: string[]; areas: number[] };
  lb: { backend: string; data: number[] } | null;
  base: { backend: string; boxes: number[]; labels: number[] } | null;
}

/** Runs in the page: imports the bundle, acquires the page's WebGPU device, runs the ops. */
const PAGE_SCRIPT = `async ({ boxes, scores, classes, logits, c, h, w, pixels }) => {
  const m = await import('/maskbox.js');
  const status = (await m.initBackends(['webgpu'])).find((b) => b.name === 'webgpu');
  const b = new Float32Array(boxes), s = new Float32Array(scores), k = new Int32Array(classes);
  const opts = { iouThreshold: 0.5, classes: k, scoreThreshold: 0.1 };
  const gpu = status.available ? await m.nms(b, s, { ...opts, backend: 'webgpu' }) : null;
  const js = await m.nms(b, s, { ...opts, backend: 'js' });
  const seg = await m.logitsToRle(new Float32Array(logits), [c, h, w], [61, 50]);
  const image = { data: new Uint8Array(pixels), width: 23, height: 17, channels: 3 };
  const lb = status.available ? await m.letterbox(image, { size: 32, backend: 'webgpu' }) : null;
  const base = status.available ? await m.dbscanBaseline(image, { passes: 2, backend: 'webgpu' }) : null;
  return {
    lb: lb && { backend: lb.backend, data: Array.from(lb.data) },
    base: base && { backend: base.backend, boxes: Array.from(base.boxes), labels: Array.from(base.labels) },
    status,
    gpu: gpu && { backend: gpu.backend, indices: Array.from(gpu.indices) },
    js: Array.from(js.indices),
    seg: { backend: seg.backend, rle: seg.rle, areas: Array.from(seg.areas) },
  };
}`;

if (!HAVE && !REQUIRED) {
  describe('browser entry in headless Chromium', () =>
    it.skip(`skipped: ${CHROMIUM} not found (apt-get install chromium)`, () => {}));
} else {
  describe('browser entry in headless Chromium', () => {
    let server: Server;
    let url = '';
    let browser: import('playwright-core').Browser;

    beforeAll(async () => {
      expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: CI must install Debian's chromium`).toBe(true);
      const script = `${REPO}/scripts/build-browser.mjs`; // a plain .mjs: imported by path, typed here
      const { buildBrowser } = (await import(script)) as {
        buildBrowser(o: { out: string }): Promise<{ file: string; bytes: number }>;
      };
      const { file } = await buildBrowser({ out: mkdtempSync(join(tmpdir(), 'maskbox-browser-')) });
      const bundle = readFileSync(file);
      server = createServer((req, res) => {
        if (req.url === '/maskbox.js') res.writeHead(200, { 'content-type': 'text/javascript' }).end(bundle);
        else res.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>maskbox</title>');
      });
      await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
      url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--enable-unsafe-webgpu',
          '--no-sandbox',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
    });
    afterAll(async () => {
      await browser?.close();
      await new Promise((ok) => server?.close(ok));
    });

    it("runs nms, logitsToRle, letterbox and the baseline on the page's WebGPU device, equal to Node", async () => {
      const d = inputs();
      const page = await browser.newPage();
      const errors: string[] = [];
      page.on('pageerror', (e) => errors.push(String(e)));
      await page.goto(url + '/');
      const args = {
        boxes: Array.from(d.boxes),
        scores: Array.from(d.scores),
        classes: Array.from(d.classes),
        logits: Array.from(d.logits),
        c: d.c,
        h: d.h,
        w: d.w,
        pixels: Array.from(d.pixels),
      };
      // A string, so that the test runner does not rewrite the page's dynamic import.
      const got = (await page.evaluate(`(${PAGE_SCRIPT})(${JSON.stringify(args)})`)) as PageResult;
      expect(errors).toEqual([]);
      const node = await nms(d.boxes, d.scores, { iouThreshold: 0.5, classes: d.classes, scoreThreshold: 0.1 });
      expect(got.js).toEqual(Array.from(node.indices));
      expect(got.status.available, got.status.reason).toBe(true);
      expect(got.gpu!.backend).toBe('webgpu');
      expect(got.gpu!.indices).toEqual(Array.from(node.indices));
      const seg = await logitsToRle(d.logits, [d.c, d.h, d.w], [61, 50]);
      expect(got.seg.rle).toEqual(seg.rle);
      expect(got.seg.areas).toEqual(Array.from(seg.areas));
      // letterbox (float32 on the GPU: within 1e-6 of the float64 reference) and the baseline (exact)
      const image = { data: d.pixels, width: 23, height: 17, channels: 3 };
      const lb = await letterbox(image, { size: 32, backend: 'js' });
      expect(got.lb!.backend).toBe('webgpu');
      expect(Math.max(...got.lb!.data.map((v, i) => Math.abs(v - lb.data[i]!)))).toBeLessThan(1e-6);
      const base = await dbscanBaseline(image, { passes: 2, backend: 'js' });
      expect(base.labels.length).toBeGreaterThan(0);
      expect(got.base!.backend).toBe('webgpu');
      expect(got.base!.boxes).toEqual(Array.from(base.boxes));
      expect(got.base!.labels).toEqual(Array.from(base.labels));
    });
  });
}
