/**
 * `maskbox serve`'s API against the library and the CLI: the CSV is byte for byte `maskbox detect`'s,
 * new conf/iou re-run only the post-processing (the model is not run again), MLflow /invocations in all
 * four body forms, segmentation and baseline equal their CLI commands, token, CORS, metrics, OpenAPI.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { formatDetectionsCsv, parseDetectionsCsv } from '../src/io/detectionsCsv.js';
import { UploadCache } from '../src/server/cache.js';
import { compute, type ServerContext } from '../src/server/context.js';
import { Gate } from '../src/server/gate.js';
import { HttpError } from '../src/server/httpError.js';
import { resolveServeOptions } from '../src/server/options.js';
import { postprocessRaw, type RawMeta } from '../src/server/raw.js';
import { cli, FIX, form, listen, loadModels, SAMPLES, tmp } from './serverHelpers.js';

const IMAGES = readdirSync(SAMPLES).filter((f) => f.endsWith('.jpg'));
let models: Awaited<ReturnType<typeof loadModels>>;
let app: FastifyInstance;
let url: string;

beforeAll(async () => {
  models = await loadModels(true);
  ({ app, url } = await listen(models));
});
afterAll(async () => {
  await app?.close();
  for (const m of [...(models?.detectors ?? []), ...(models?.segmenters ?? [])]) await m.dispose();
});

async function detectCsvCli(image: string, conf: number, iou: number): Promise<string> {
  const out = tmp();
  const r = await cli(['detect', join(SAMPLES, image), '--conf', String(conf), '--iou', String(iou), '--out', out]);
  expect(r.code).toBe(0);
  return readFileSync(join(out, image.replace(/\.jpg$/, '_result.csv')), 'utf8');
}

async function imagesProcessed(kind: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const m = new RegExp(`^maskbox_images_processed_total\\{kind="${kind}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : 0;
}

describe('POST /v1/detect', () => {
  it("answers the lab's CSV byte for byte as `maskbox detect` writes it (multipart and raw body)", async () => {
    for (const image of IMAGES) {
      const bytes = readFileSync(join(SAMPLES, image));
      for (const [conf, iou] of [
        [0.4, 0.45],
        [0.25, 0.6],
      ] as const) {
        const want = await detectCsvCli(image, conf, iou);
        expect(want.split('\n').length).toBeGreaterThan(20);
        const multi = await fetch(`${url}/v1/detect?format=csv`, {
          method: 'POST',
          body: form(bytes, image, { conf: String(conf), iou: String(iou) }),
        });
        expect(multi.status).toBe(200);
        expect(multi.headers.get('content-disposition')).toBe(
          `attachment; filename="${image.replace('.jpg', '_result.csv')}"`,
        );
        expect(await multi.text()).toBe(want);
        const raw = await fetch(`${url}/v1/detect?format=csv&conf=${conf}&iou=${iou}`, {
          method: 'POST',
          headers: { 'content-type': 'image/jpeg' },
          body: bytes,
        });
        expect(await raw.text()).toBe(want);
      }
    }
  });

  it('a 16-bit grey TIFF (raw body) gives what `maskbox detect` writes for the file', async () => {
    const dir = tmp();
    const tif = join(dir, 'frame16.tif');
    await sharp(join(SAMPLES, IMAGES[1]!)).greyscale().toColourspace('grey16').tiff().toFile(tif);
    const out = join(dir, 'out');
    expect((await cli(['detect', tif, '--out', out])).code).toBe(0);
    const want = readFileSync(join(out, 'frame16_result.csv'), 'utf8');
    expect(parseDetectionsCsv(want).length).toBeGreaterThan(10);
    const r = await fetch(`${url}/v1/detect?format=csv&name=frame16.tif`, {
      method: 'POST',
      headers: { 'content-type': 'image/tiff' },
      body: readFileSync(tif),
    });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-disposition')).toContain('frame16_result.csv');
    expect(await r.text()).toBe(want);
  });

  it('keeps the raw output: new conf/iou re-run only the post-processing, equal to a fresh detect', async () => {
    const image = IMAGES[0]!;
    const bytes = readFileSync(join(SAMPLES, image));
    const first = (await (await fetch(`${url}/v1/detect`, { method: 'POST', body: form(bytes, image) })).json()) as {
      upload_id: string;
      count: number;
      expires_in: number;
      raw: RawMeta & { url: string };
      image: { width: number; height: number };
      detections: { box: number[]; score: number; label: string }[];
    };
    expect(first.upload_id).toMatch(/^[0-9a-f]{32}$/);
    expect(first.expires_in).toBe(900);
    expect(first.detections[0]!.label).toBe('cluster');
    const runs = await imagesProcessed('detector');
    const counts: number[] = [];
    for (const [conf, iou] of [
      [0.6, 0.3],
      [0.2, 0.7],
      [0.9, 0.45],
    ] as const) {
      const r = await fetch(`${url}/v1/uploads/${first.upload_id}/detections?format=csv&conf=${conf}&iou=${iou}`);
      expect(r.status).toBe(200);
      const csv = await r.text();
      expect(csv).toBe(await detectCsvCli(image, conf, iou));
      counts.push(parseDetectionsCsv(csv).length);
    }
    expect(new Set(counts).size).toBe(3); // the settings matter
    expect(await imagesProcessed('detector')).toBe(runs); // ...and the model did not run again

    // What the page does: fetch the raw output once and post-process it itself.
    const rawRes = await fetch(`${url}${first.raw.url}`);
    expect(rawRes.headers.get('x-maskbox-dims')).toBe(first.raw.dims.join(','));
    const data = new Float32Array(await rawRes.arrayBuffer());
    expect(data.length).toBe(first.raw.dims[1] * first.raw.dims[2]);
    const r = await postprocessRaw({ ...first.raw, data }, { conf: 0.6, iou: 0.3 });
    expect(formatDetectionsCsv(r.boxes, r.scores, { width: first.image.width, height: first.image.height })).toBe(
      await detectCsvCli(image, 0.6, 0.3),
    );

    expect((await fetch(`${url}/v1/uploads/${'0'.repeat(32)}/detections`)).status).toBe(404);
    expect((await fetch(`${url}/v1/uploads/..%2F..%2Fetc%2Fpasswd/raw`)).status).toBe(400);
    const noKeep = await (
      await fetch(`${url}/v1/detect?keep=false`, { method: 'POST', body: form(bytes, image) })
    ).json();
    expect(noKeep).not.toHaveProperty('upload_id');
  });

  it('answers JSON boxes in original pixels and COCO results', async () => {
    const image = IMAGES[1]!;
    const bytes = readFileSync(join(SAMPLES, image));
    const j = (await (await fetch(`${url}/v1/detect`, { method: 'POST', body: form(bytes, image) })).json()) as {
      count: number;
      image: { name: string; width: number; height: number };
      detections: { box: [number, number, number, number]; score: number; class: number }[];
      params: Record<string, unknown>;
    };
    expect(j.image).toEqual({ name: image, width: 2048, height: 2048 });
    expect(j.params).toEqual({ conf: 0.4, iou: 0.45, max_det: 1000, agnostic: false });
    const csvRows = parseDetectionsCsv(await detectCsvCli(image, 0.4, 0.45));
    expect(j.count).toBe(csvRows.length);
    const boxes = new Float32Array(j.detections.flatMap((d) => d.box));
    expect(
      formatDetectionsCsv(
        boxes,
        j.detections.map((d) => d.score),
        { width: 2048, height: 2048 },
      ),
    ).toBe(await detectCsvCli(image, 0.4, 0.45));
    const coco = (await (
      await fetch(`${url}/v1/detect?format=coco&max_det=5`, { method: 'POST', body: form(bytes, image) })
    ).json()) as { bbox: number[]; category_id: number }[];
    expect(coco).toHaveLength(5);
    expect(coco[0]!.category_id).toBe(1);
    expect(coco[0]!.bbox[2]).toBeCloseTo(j.detections[0]!.box[2] - j.detections[0]!.box[0], 2);
  });

  it('sliced inference (tile, overlap, full_frame) answers what `maskbox detect --tile` writes', async () => {
    const image = IMAGES[0]!;
    const out = tmp();
    const r = await cli(['detect', join(SAMPLES, image), '--tile', '1024', '--overlap', '0.25', '--out', out]);
    expect(r.code).toBe(0);
    const want = readFileSync(join(out, image.replace(/\.jpg$/, '_result.csv')), 'utf8');
    expect(want).not.toBe(await detectCsvCli(image, 0.4, 0.45)); // tiling changes the boxes
    const bytes = readFileSync(join(SAMPLES, image));
    const csv = await fetch(`${url}/v1/detect?format=csv&tile=1024`, {
      method: 'POST',
      body: form(bytes, image, { overlap: '0.25' }),
    });
    expect(csv.status).toBe(200);
    expect(await csv.text()).toBe(want);
    const j = (await (
      await fetch(`${url}/v1/detect?tile=1024&overlap=0.25`, { method: 'POST', body: form(bytes, image) })
    ).json()) as Record<string, unknown>;
    expect(j).toMatchObject({ tiles: 9, params: { tile: 1024, overlap: 0.25, full_frame: false } });
    expect(j).not.toHaveProperty('upload_id'); // tiled runs keep no single raw output
    expect((await fetch(`${url}/v1/detect?tile=12`, { method: 'POST', body: form(bytes, image) })).status).toBe(400);
  });

  it('rejects bad settings with 400 naming the field', async () => {
    const bytes = readFileSync(join(SAMPLES, IMAGES[0]!));
    const q = await fetch(`${url}/v1/detect?conf=2`, { method: 'POST', body: form(bytes, 'a.jpg') });
    expect(q.status).toBe(400);
    expect(((await q.json()) as { error: { message: string } }).error.message).toMatch(/conf/);
    const f = await fetch(`${url}/v1/detect`, { method: 'POST', body: form(bytes, 'a.jpg', { iou: 'lots' }) });
    expect(f.status).toBe(400);
    expect(await f.json()).toMatchObject({ error: { argument: 'iou', statusCode: 400 } });
    const m = await fetch(`${url}/v1/detect?model=nope`, { method: 'POST', body: form(bytes, 'a.jpg') });
    expect(m.status).toBe(404);
  });
});

describe('POST /invocations (MLflow scoring server)', () => {
  const bytes = () => readFileSync(join(SAMPLES, IMAGES[0]!));
  const post = (body: unknown, type = 'application/json') =>
    fetch(`${url}/invocations`, { method: 'POST', headers: { 'content-type': type }, body: JSON.stringify(body) });

  it('takes inputs, instances, dataframe_split and dataframe_records alike, with params', async () => {
    const b64 = bytes().toString('base64');
    const params = { conf: 0.5, iou: 0.4 };
    const bodies = [
      { inputs: b64, params },
      { inputs: [b64], params },
      { inputs: { image: [b64] }, params },
      { instances: [{ image: b64 }], params },
      { dataframe_split: { columns: ['image'], data: [[b64]] }, params },
      { dataframe_records: [{ image: b64 }], params },
    ];
    const want = parseDetectionsCsv(await detectCsvCli(IMAGES[0]!, 0.5, 0.4));
    for (const body of bodies) {
      const r = await post(body);
      expect(r.status).toBe(200);
      const { predictions } = (await r.json()) as { predictions: Record<string, number>[] };
      expect(predictions).toEqual(want.map((row) => ({ image: 0, ...row, class: 0 })));
    }
    const two = (await (await post({ instances: [b64, b64.replace(/\+/g, '-').replace(/\//g, '_')] })).json()) as {
      predictions: { image: number }[];
    };
    expect(two.predictions.filter((p) => p.image === 1).length).toBe(
      two.predictions.filter((p) => p.image === 0).length,
    );
  });

  it('answers 400/415 for bodies MLflow would refuse', async () => {
    expect((await post({ nothing: 1 })).status).toBe(400);
    expect((await post({ inputs: 'not base64 !!' })).status).toBe(400);
    expect((await post({ inputs: Buffer.from('hello').toString('base64') })).status).toBe(415);
    expect((await post({ inputs: [], params: {} })).status).toBe(400);
    expect((await post({ inputs: ['x'], instances: ['x'] })).status).toBe(400);
    expect((await post({ inputs: bytes().toString('base64'), params: { conf: 3 } })).status).toBe(400);
    const csv = await fetch(`${url}/invocations`, {
      method: 'POST',
      headers: { 'content-type': 'text/csv' },
      body: 'a,b',
    });
    expect(csv.status).toBe(415);
  });
});

describe('segmentation, baseline, info routes', () => {
  it('POST /v1/segment answers the submission CSV `maskbox segment` writes, and JSON masks', async () => {
    const png = readFileSync(join(FIX, 'seg.png'));
    const out = join(tmp(), 's.csv');
    expect(
      (await cli(['segment', join(FIX, 'seg.png'), '--model', join(FIX, 'tiny_seg_fold0.onnx'), '--out', out])).code,
    ).toBe(0);
    const r = await fetch(`${url}/v1/segment?format=csv`, {
      method: 'POST',
      body: form(png, 'seg.png', {}, 'image/png'),
    });
    expect(r.status).toBe(200);
    expect(await r.text()).toBe(readFileSync(out, 'utf8'));
    const j = (await (
      await fetch(`${url}/v1/segment`, { method: 'POST', body: form(png, 'seg.png', {}, 'image/png') })
    ).json()) as { masks: { label: string; rle: string; area: number }[] };
    expect(j.masks).toHaveLength(29);
    expect(j.masks[27]!.label).toBe('Radius');
    expect(j.masks.some((m) => m.area > 0)).toBe(true);
  });

  it('POST /v1/baseline answers the CSV `maskbox baseline` writes', async () => {
    const image = IMAGES[0]!;
    const out = tmp();
    expect((await cli(['baseline', join(SAMPLES, image), '--out', out])).code).toBe(0);
    const r = await fetch(`${url}/v1/baseline?format=csv`, {
      method: 'POST',
      body: form(readFileSync(join(SAMPLES, image)), image),
    });
    expect(r.status).toBe(200);
    const text = await r.text();
    expect(text).toBe(readFileSync(join(out, image.replace('.jpg', '_result.csv')), 'utf8'));
    expect(parseDetectionsCsv(text).length).toBeGreaterThan(10);
  });

  it('GET /v1/health, /v1/models, /metrics, /docs', async () => {
    expect(await (await fetch(`${url}/v1/health`)).json()).toMatchObject({ status: 'ok' });
    const m = (await (await fetch(`${url}/v1/models`)).json()) as { models: Record<string, unknown>[] };
    expect(m.models[0]).toMatchObject({
      name: 'cdv-yolov6-tiny',
      kind: 'detector',
      inputSize: [640, 640],
      classes: ['cluster'],
      provider: 'cpu',
      keepsRawOutput: true,
    });
    expect(['js', 'cpu', 'webgpu', 'cuda']).toContain(m.models[0]!.backend); // ran NMS in earlier tests
    expect(m.models.map((x) => x.kind)).toEqual(['detector', 'segmenter', 'baseline']);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    for (const name of [
      'maskbox_http_requests_total',
      'maskbox_http_request_duration_seconds_bucket',
      'maskbox_queue_depth',
      'maskbox_images_processed_total',
      'maskbox_process_resident_memory_bytes',
    ])
      expect(metrics).toContain(name);
    const doc = (await (await fetch(`${url}/docs/json`)).json()) as { openapi: string; paths: Record<string, any> };
    expect(doc.openapi).toMatch(/^3\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/v1/detect',
        '/v1/baseline',
        '/v1/segment',
        '/invocations',
        '/v1/uploads/{id}/detections',
        '/metrics',
      ]),
    );
    expect(Object.keys(doc.paths['/v1/detect'].post.requestBody.content)).toContain('multipart/form-data');
    expect(doc.paths['/v1/detect'].post.parameters.map((p: { name: string }) => p.name)).toContain('conf');
    const ui = await fetch(`${url}/docs`, { redirect: 'follow' });
    expect(ui.status).toBe(200);
    expect(await ui.text()).not.toMatch(/https?:\/\/(cdn|unpkg)/);
  });
});

describe('token, CORS, defaults', () => {
  it('requires the bearer token on everything but health when one is set', async () => {
    const s = await listen(models, { token: 's3cret-token' });
    try {
      expect((await fetch(`${s.url}/v1/health`)).status).toBe(200);
      const no = await fetch(`${s.url}/v1/models`);
      expect(no.status).toBe(401);
      expect(no.headers.get('www-authenticate')).toBe('Bearer');
      expect((await fetch(`${s.url}/v1/models`, { headers: { authorization: 'Bearer wrong' } })).status).toBe(401);
      expect((await fetch(`${s.url}/metrics`)).status).toBe(401);
      const bytes = readFileSync(join(SAMPLES, IMAGES[0]!));
      expect((await fetch(`${s.url}/v1/detect`, { method: 'POST', body: form(bytes, 'a.jpg') })).status).toBe(401);
      const ok = await fetch(`${s.url}/v1/models`, { headers: { authorization: 'Bearer s3cret-token' } });
      expect(ok.status).toBe(200);
    } finally {
      await s.app.close();
    }
  });

  it('sends no CORS headers unless asked', async () => {
    const r = await fetch(`${url}/v1/health`, { headers: { origin: 'http://evil.example' } });
    expect(r.headers.get('access-control-allow-origin')).toBeNull();
    const s = await listen(models, { cors: ['http://lab.example'] });
    try {
      const c = await fetch(`${s.url}/v1/health`, { headers: { origin: 'http://lab.example' } });
      expect(c.headers.get('access-control-allow-origin')).toBe('http://lab.example');
    } finally {
      await s.app.close();
    }
  });

  it('maskbox serve: help, and bad flags are refused before anything starts', async () => {
    const help = await cli(['serve', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--port 8080.*--host 127\.0\.0\.1/);
    expect((await cli(['serve', '--port', 'eighty'])).code).toBe(2);
    expect((await cli(['serve', '--provider', 'tpu'])).code).toBe(2);
    const bad = await cli(['serve', '--concurrency', '0', '--port', '0']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/concurrency/);
  });

  it('binds to 127.0.0.1 by default and checks its settings', () => {
    expect(resolveServeOptions().host).toBe('127.0.0.1');
    expect(() => resolveServeOptions({ concurrency: 0 })).toThrow(/concurrency/);
    expect(() => resolveServeOptions({ token: 'short' })).toThrow(/token/);
  });

  it('the upload cache is bounded in entries and bytes and forgets after its time limit', () => {
    let now = 0;
    const raw = (n: number) => ({
      data: new Float32Array(n),
      dims: [1, n, 1] as [number, number, number],
      layout: 'yolov5' as const,
      transform: { gain: 1, padX: 0, padY: 0, imageWidth: 1, imageHeight: 1 },
    });
    const c = new UploadCache({ maxEntries: 2, maxBytes: 1000, ttlMs: 100, now: () => now });
    const up = (n: number) => ({ model: 'm', name: 'a', width: 1, height: 1, raw: raw(n) });
    const a = c.put(up(10))!;
    const b = c.put(up(10))!;
    expect(c.get(a)).toBeDefined(); // a is now the most recent
    const d = c.put(up(10))!;
    expect(c.get(b)).toBeUndefined(); // least recently used went
    expect(c.get(a)).toBeDefined();
    expect(c.put(up(1000))).toBeNull(); // alone over the byte bound
    c.put(up(200));
    expect(c.byteSize).toBeLessThanOrEqual(1000);
    now = 1000;
    expect(c.get(d)).toBeUndefined();
    expect(c.get(a)).toBeUndefined();
  });

  it('work past the time limit is answered 504 at once; its slot is held until it really ends', async () => {
    const gate = new Gate(1, 0);
    const ctx = {
      options: resolveServeOptions({ timeoutMs: 100 }),
      gate,
      metrics: { rejected: { inc: () => undefined } },
      started: new WeakMap(),
    } as unknown as ServerContext;
    const req = {} as Parameters<typeof compute>[1];
    let finished = false;
    const t0 = performance.now();
    const slow = compute(ctx, req, () => new Promise((r) => setTimeout(() => r((finished = true)), 400)));
    await expect(slow).rejects.toMatchObject({ statusCode: 504, code: 'ERR_TIMEOUT' });
    await expect(slow).rejects.toBeInstanceOf(HttpError);
    expect(performance.now() - t0).toBeLessThan(350);
    expect(finished).toBe(false);
    expect(gate.state().running).toBe(1); // still computing
    await new Promise((r) => setTimeout(r, 450));
    expect(finished).toBe(true);
    expect(gate.state().running).toBe(0);
    // A request that waited past its deadline for a slot gives the slot back when it comes.
    const hold = await gate.acquire();
    const waiting = compute(ctx, req, async () => 1);
    await expect(waiting).rejects.toMatchObject({ statusCode: 504 });
    hold.release();
    await new Promise((r) => setTimeout(r, 10));
    expect(gate.state().running).toBe(0);
  });
});
