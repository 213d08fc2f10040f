/**
 * Abuse of `maskbox serve`: oversize and truncated uploads, a PNG that declares 60000x60000, wrong
 * content types, path-like fields, slow clients, requests past the queue. Each gets its status code as
 * JSON without a stack, and the server keeps serving afterwards.
 */
import { existsSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { pngHeaderOnly } from './helpers.js';
import { form, listen, loadModels, SAMPLES } from './serverHelpers.js';

const JPG = readFileSync(join(SAMPLES, 'cdv_00000.jpg'));
let models: Awaited<ReturnType<typeof loadModels>>;
let server: Awaited<ReturnType<typeof listen>>;
const errors: string[] = [];

beforeAll(async () => {
  models = await loadModels();
  server = await listen(models, {
    maxUploadBytes: 1_000_000,
    maxPixels: 4096 * 4096,
    timeoutMs: 2000,
    concurrency: 1,
    queue: 2,
  });
});
afterAll(async () => {
  await server?.app.close();
  for (const m of models?.detectors ?? []) await m.dispose();
  // No error answer carried a stack trace or a path of this machine.
  for (const e of errors) {
    expect(e).not.toMatch(/\n\s+at |node_modules|\/work\//);
  }
});

async function call(path: string, init: RequestInit = {}): Promise<{ status: number; body: any; headers: Headers }> {
  const r = await fetch(`${server.url}${path}`, init);
  const text = await r.text();
  if (r.status >= 400) errors.push(text);
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: r.status, body, headers: r.headers };
}

async function stillServing(): Promise<void> {
  expect((await call('/v1/health')).status).toBe(200);
  const r = await call('/v1/detect?format=csv', { method: 'POST', body: form(JPG, 'ok.jpg') });
  expect(r.status).toBe(200);
  expect(String(r.body)).toMatch(/^x_center,y_center,width,height,confidence,area\n/);
}

/** Open a raw socket to the server. */
function socket(): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect(server.port, '127.0.0.1', () => resolve(s));
    s.on('error', reject);
  });
}

/** Everything the server sends on `s` until it closes (or `ms` pass). */
function readAll(s: Socket, ms: number): Promise<{ text: string; closed: boolean; elapsed: number }> {
  const t0 = Date.now();
  return new Promise((resolve) => {
    let text = '';
    const done = (closed: boolean) => resolve({ text, closed, elapsed: Date.now() - t0 });
    const timer = setTimeout(() => done(false), ms);
    s.on('data', (d) => (text += d.toString('latin1')));
    s.on('close', () => {
      clearTimeout(timer);
      done(true);
    });
    s.on('error', () => undefined);
  });
}

describe('maskbox serve under abuse', () => {
  it('oversize uploads: 413 for raw bodies and multipart files', async () => {
    const big = Buffer.concat([JPG, Buffer.alloc(300_000)]); // 1.1 MB > the 1 MB limit
    const raw = await call('/v1/detect', { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: big });
    expect(raw.status).toBe(413);
    const multi = await call('/v1/detect', { method: 'POST', body: form(big, 'big.jpg') });
    expect(multi.status).toBe(413);
    expect(multi.body.error.statusCode).toBe(413);
    await stillServing();
  });

  it('a PNG that declares 60000x60000 is refused from its header (413), without decoding', async () => {
    const bomb = pngHeaderOnly(60000, 60000);
    expect(bomb.length).toBeLessThan(1000);
    const rss0 = process.memoryUsage().rss;
    const t0 = Date.now();
    const r = await call('/v1/detect', { method: 'POST', headers: { 'content-type': 'image/png' }, body: bomb });
    expect(r.status).toBe(413);
    expect(r.body.error.code).toBe('ERR_TOO_MANY_PIXELS');
    expect(r.body.error.message).toMatch(/60000x60000/);
    expect(Date.now() - t0).toBeLessThan(1500);
    expect(process.memoryUsage().rss - rss0).toBeLessThan(200 * 1024 * 1024);
    const b64 = await call('/invocations', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ inputs: bomb.toString('base64') }),
    });
    expect(b64.status).toBe(413);
    await stillServing();
  });

  it('truncated uploads: a cut image is 422; a body cut off mid-transfer does not hurt the server', async () => {
    const cut = await call('/v1/detect', {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: JPG.subarray(0, Math.floor(JPG.length / 2)),
    });
    expect(cut.status).toBe(422);
    expect(cut.body.error.code).toBe('ERR_BAD_IMAGE');
    const empty = await call('/v1/detect', { method: 'POST', headers: { 'content-type': 'image/png' }, body: '' });
    expect([400, 415]).toContain(empty.status);

    const s = await socket();
    s.write(`POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${JPG.length}\r\n\r\n`);
    s.write(JPG.subarray(0, 5000));
    s.destroy(); // client goes away mid-upload
    await new Promise((r) => setTimeout(r, 100));
    await stillServing();
  });

  it('wrong content types: 415, whatever the declared type or the magic bytes say', async () => {
    const cases: [string, string | Buffer][] = [
      ['text/plain', 'hello'],
      ['application/json', '{"a":1}'],
      ['application/x-unknown', 'zzz'],
      ['image/png', 'this is not a png at all'],
      ['application/octet-stream', Buffer.from('GIF89a-----------')],
    ];
    for (const [type, body] of cases) {
      const r = await call('/v1/detect', { method: 'POST', headers: { 'content-type': type }, body });
      expect(r.status, type).toBe(415);
    }
    const gif = await call('/v1/detect', {
      method: 'POST',
      body: form(Buffer.from('GIF89a--------'), 'x.gif', {}, 'image/gif'),
    });
    expect(gif.status).toBe(415);
    const wrongField = new FormData();
    wrongField.append('other', new Blob([JPG]), 'a.jpg');
    expect((await call('/v1/detect', { method: 'POST', body: wrongField })).status).toBe(400);
    await stillServing();
  });

  it('path-like fields and names never reach the filesystem', async () => {
    const evil = `evil-${process.pid}-${Date.now()}`;
    const r = await call('/v1/detect', {
      method: 'POST',
      body: form(JPG, `../../../../${tmpdir()}/${evil}.jpg`),
    });
    expect(r.status).toBe(200);
    expect(r.body.image.name).toBe(`${evil}.jpg`);
    const csv = await fetch(`${server.url}/v1/detect?format=csv`, {
      method: 'POST',
      body: form(JPG, 'a.jpg', { name: `/etc/${evil}\r\nX-Injected: 1` }),
    });
    expect(csv.headers.get('content-disposition')).toMatch(/^attachment; filename="[A-Za-z0-9._ -]+_result\.csv"$/);
    expect(csv.headers.get('x-injected')).toBeNull();
    const q = await call(`/v1/detect?name=${encodeURIComponent('..\\..\\windows\\' + evil + '.jpg')}`, {
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: JPG,
    });
    expect(q.body.image.name).toBe(`${evil}.jpg`);
    for (const p of [join(tmpdir(), `${evil}.jpg`), join(process.cwd(), `${evil}.jpg`), `/etc/${evil}`])
      expect(existsSync(p)).toBe(false);
    expect((await call('/v1/detect?model=..%2F..%2Fetc', { method: 'POST', body: form(JPG, 'a.jpg') })).status).toBe(
      400,
    );
    expect((await call('/v1/uploads/..%2F..%2Fetc%2Fpasswd')).status).toBe(400);
    expect((await call('/../../etc/passwd')).status).toBe(404);
    expect((await call('/page.js/../../package.json')).status).toBe(404);
  });

  it('slow clients are cut off at the time limit (408) while others are served', async () => {
    const slow = await socket();
    slow.write(
      `POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${JPG.length}\r\n\r\n`,
    );
    const drip = setInterval(() => slow.writable && slow.write(JPG.subarray(0, 10)), 200);
    const answer = readAll(slow, 8000);
    await stillServing(); // meanwhile
    const res = await answer;
    clearInterval(drip);
    expect(res.text).toMatch(/^HTTP\/1\.1 408/);
    expect(res.elapsed).toBeLessThan(6000);
    slow.destroy();

    const idle = await socket(); // headers never finished
    idle.write('POST /v1/detect HTTP/1.1\r\nHost: x\r\n');
    const r2 = await readAll(idle, 8000);
    expect(r2.closed).toBe(true);
    idle.destroy();
    await stillServing();
  });

  it('past the queue: 503 with Retry-After; every request gets a status; the server recovers', async () => {
    // concurrency 1 + queue 2: two uploads that never finish hold two places...
    const holders: Socket[] = [];
    for (let i = 0; i < 3; i++) {
      const s = await socket();
      s.on('error', () => undefined);
      s.write(
        `POST /v1/detect HTTP/1.1\r\nHost: x\r\nContent-Type: image/jpeg\r\nContent-Length: ${JPG.length}\r\n\r\n`,
      );
      s.write(JPG.subarray(0, 100));
      holders.push(s);
    }
    await new Promise((r) => setTimeout(r, 100));
    const full = await call('/v1/detect', { method: 'POST', body: form(JPG, 'a.jpg') });
    expect(full.status).toBe(503);
    expect(full.headers.get('retry-after')).toBe('2');
    expect(full.body.error.code).toBe('ERR_QUEUE_FULL');
    expect((await call('/v1/health')).status).toBe(200); // health is never queued
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    expect(metrics).toMatch(/^maskbox_queue_depth 3$/m);
    expect(metrics).toMatch(/^maskbox_requests_rejected_total\{reason="queue_full"\} [1-9]/m);
    for (const s of holders) s.destroy();
    await new Promise((r) => setTimeout(r, 200));

    // Many real uploads at once: each is answered 200 or 503, none hangs or fails otherwise.
    const statuses = await Promise.all(
      Array.from({ length: 10 }, (_, i) =>
        call('/v1/detect?format=csv', { method: 'POST', body: form(JPG, `c${i}.jpg`) }).then((r) => r.status),
      ),
    );
    expect(statuses.every((s) => s === 200 || s === 503)).toBe(true);
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);
    await stillServing();
    expect(await (await fetch(`${server.url}/metrics`)).text()).toMatch(/^maskbox_queue_depth 0$/m);
  });
});
