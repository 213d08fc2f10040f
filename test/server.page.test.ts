/**
 * The web page end to end in headless Chromium (Debian's `chromium`, driven by playwright-core): upload a
 * sample, move a slider (with the keyboard too), see the box count change, download the CSV and compare
 * it byte for byte with `maskbox detect` at the same settings; a zip of a batch; the baseline layer.
 * Screenshots go to $MASKBOX_SCREENSHOTS (default a temp folder). Skips outside CI when Chromium is
 * missing; fails in CI.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { strFromU8, strToU8, unzipSync, zipSync } from 'fflate';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error: a plain .mjs build script without types
import { buildPage } from '../scripts/build-page.mjs';
import { cli, FIX, listen, loadModels, SAMPLES, tmp } from './serverHelpers.js';

const CHROMIUM = process.env.MASKBOX_CHROMIUM ?? '/usr/bin/chromium';
const HAVE = existsSync(CHROMIUM);
const CI = !!process.env.CI;
const SHOTS = process.env.MASKBOX_SCREENSHOTS ?? join(tmpdir(), 'maskbox-page-screenshots');

if (!HAVE && !CI) {
  describe('web page in headless Chromium', () =>
    it.skip(`skipped: ${CHROMIUM} not found (apt-get install chromium)`, () => {}));
} else {
  describe('web page in headless Chromium', () => {
    let models: Awaited<ReturnType<typeof loadModels>>;
    let server: Awaited<ReturnType<typeof listen>>;
    let browser: import('playwright-core').Browser;

    beforeAll(async () => {
      expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: CI must install Debian's chromium`).toBe(true);
      const pageDir = tmp();
      const files = (await buildPage({ out: pageDir, quiet: true })) as { file: string; bytes: number }[];
      expect(files.find((f) => f.file === 'page.js')!.bytes).toBeLessThan(200_000);
      models = await loadModels(true);
      server = await listen(models, { pageDir });
      const { chromium } = await import('playwright-core');
      browser = await chromium.launch({
        executablePath: CHROMIUM,
        args: [
          '--no-sandbox',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
        ],
      });
      mkdirSync(SHOTS, { recursive: true });
    });
    afterAll(async () => {
      await browser?.close();
      await server?.app.close();
      for (const m of [...(models?.detectors ?? []), ...(models?.segmenters ?? [])]) await m.dispose();
    });

    async function detectCsv(image: string, conf: number, iou: number): Promise<string> {
      const out = tmp();
      const r = await cli(['detect', join(SAMPLES, image), '--conf', String(conf), '--iou', String(iou), '--out', out]);
      expect(r.code).toBe(0);
      return readFileSync(join(out, image.replace(/\.jpg$/, '_result.csv')), 'utf8');
    }

    it('upload, slider, count changes, CSV equals `maskbox detect` byte for byte', async () => {
      const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
      const requests: string[] = [];
      page.on('request', (r) => requests.push(r.url()));
      const consoleErrors: string[] = [];
      page.on('pageerror', (e) => consoleErrors.push(String(e)));
      await page.goto(server.url + '/');
      await page.waitForFunction("document.getElementById('model').options.length > 0");
      await page.setInputFiles('#files', join(SAMPLES, 'cdv_00000.jpg'));
      await page.waitForFunction("document.getElementById('count').dataset.count !== ''");
      const count0 = Number(await page.locator('#count').getAttribute('data-count'));
      expect(String(count0)).toBe(String((await detectCsv('cdv_00000.jpg', 0.4, 0.45)).trim().split('\n').length - 1));
      await page.screenshot({ path: join(SHOTS, '1-uploaded.png') });

      // Move conf with the mouse-free path (fill) and iou with the keyboard.
      await page.locator('#conf').fill('0.7');
      await page.waitForFunction(`document.getElementById('count').dataset.count !== '${count0}'`);
      const count1 = Number(await page.locator('#count').getAttribute('data-count'));
      expect(count1).toBeLessThan(count0);
      await page.locator('#iou').focus();
      for (let i = 0; i < 15; i++) await page.keyboard.press('ArrowLeft'); // 0.45 -> 0.30
      await page.waitForFunction("document.getElementById('iou-out').value === '0.30'");
      await page.waitForTimeout(200);
      const iouValue = await page.locator('#iou').inputValue();
      expect(Number(iouValue)).toBeCloseTo(0.3, 10);
      await page.screenshot({ path: join(SHOTS, '2-slider-moved.png') });

      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download')]);
      expect(download.suggestedFilename()).toBe('cdv_00000_result.csv');
      const got = readFileSync((await download.path())!, 'utf8');
      expect(got).toBe(await detectCsv('cdv_00000.jpg', 0.7, Number(iouValue)));
      expect(got.trim().split('\n').length - 1).toBe(Number(await page.locator('#count').getAttribute('data-count')));

      // Nothing outside the server was asked for (no CDN), and the model ran once: one detect, one raw fetch.
      expect(requests.filter((u) => !u.startsWith(server.url))).toEqual([]);
      expect(requests.filter((u) => u.includes('/v1/detect')).length).toBe(1);
      expect(requests.filter((u) => u.endsWith('/raw')).length).toBe(1);
      expect(consoleErrors).toEqual([]);
      await page.close();
    });

    it('a zip of images: progress, the baseline layer, and a zip of per-image CSVs', async () => {
      const page = await browser.newPage({ acceptDownloads: true, viewport: { width: 1280, height: 900 } });
      await page.goto(server.url + '/');
      await page.waitForFunction("document.getElementById('model').options.length > 0");
      const zipPath = join(tmp(), 'batch.zip'); // a zip of both samples, in a folder
      writeFileSync(
        zipPath,
        zipSync({
          'batch/cdv_00000.jpg': readFileSync(join(SAMPLES, 'cdv_00000.jpg')),
          'batch/cdv_00001.jpg': readFileSync(join(SAMPLES, 'cdv_00001.jpg')),
          'batch/notes.txt': strToU8('not an image'),
        }),
      );
      await page.setInputFiles('#files', zipPath);
      await page.waitForFunction("document.getElementById('status').textContent.includes('2 of 2 image')");
      await page.locator('#show-baseline').check();
      await page.waitForFunction("document.getElementById('count').textContent.includes('baseline ')");
      await page.screenshot({ path: join(SHOTS, '3-batch-baseline.png') });
      const [download] = await Promise.all([page.waitForEvent('download'), page.click('#download-all')]);
      expect(download.suggestedFilename()).toBe('results.zip');
      const zip = unzipSync(readFileSync((await download.path())!));
      expect(Object.keys(zip).sort()).toEqual(['cdv_00000_result.csv', 'cdv_00001_result.csv']);
      expect(strFromU8(zip['cdv_00001_result.csv']!)).toBe(await detectCsv('cdv_00001.jpg', 0.4, 0.45));
      await page.close();
    });

    it('behind a token: the page asks for it, then lists the models and detects', async () => {
      const pageDir = tmp();
      await buildPage({ out: pageDir, quiet: true });
      const guarded = await listen(models, { pageDir, token: 'lab-secret-1' });
      try {
        const page = await browser.newPage();
        await page.goto(guarded.url + '/'); // the page's files need no token
        await page.waitForFunction("document.getElementById('status').textContent.includes('token')");
        await page.fill('#token', 'lab-secret-1');
        await page.locator('#token').press('Enter');
        await page.locator('#token').blur();
        await page.waitForFunction("document.getElementById('model').options.length > 0");
        await page.setInputFiles('#files', join(SAMPLES, 'cdv_00001.jpg'));
        await page.waitForFunction("document.getElementById('count').dataset.count !== ''");
        const n = Number(await page.locator('#count').getAttribute('data-count'));
        expect(n).toBe((await detectCsv('cdv_00001.jpg', 0.4, 0.45)).trim().split('\n').length - 1);
        await page.close();
      } finally {
        await guarded.app.close();
      }
    });

    it('a segmentation model: masks drawn as coloured overlays with their class names', async () => {
      const page = await browser.newPage({ viewport: { width: 1000, height: 700 } });
      await page.goto(server.url + '/');
      await page.waitForFunction("document.getElementById('model').options.length > 1");
      await page.selectOption('#model', 'tiny_seg_fold0');
      await page.setInputFiles('#files', join(FIX, 'seg.png'));
      await page.waitForFunction("document.getElementById('count').textContent.includes('masks')");
      const legend = await page.locator('#legend-classes span').allTextContents();
      expect(legend.length).toBeGreaterThan(0);
      for (const l of legend)
        expect(l).toMatch(
          /^■ (finger-\d+|Trapezium|Trapezoid|Capitate|Hamate|Scaphoid|Lunate|Triquetrum|Pisiform|Radius|Ulna)$/,
        );
      await page.screenshot({ path: join(SHOTS, '4-segmentation.png') });
      await page.close();
    });
  });
}
