/**
 * Load test of `maskbox serve` on loopback with autocannon, bounded in requests and time. The server runs
 * as users run it (`node bin/maskbox.js serve`, a separate process, the bundled model); this process only
 * sends requests. Scenarios:
 * 1. detect: POST /v1/detect with a 2048x2048 sample JPEG (decode + letterbox + inference + NMS);
 * 2. sliders: GET /v1/uploads/:id/detections with varying conf/iou (post-processing only, kept raw output);
 * 3. overload: many connections against concurrency 1 + queue 4: how many 200 and 503 (+ Retry-After), and
 *    that nothing else comes back;
 * 4. memory: the server's RSS and heap (from its /metrics) sampled over N requests (default 10,000;
 *    `--short` 2,000) of scenario 2 mixed with detect requests; must stay flat.
 * Prints a markdown table; `--out FILE` also writes it. Exit 1 on any unexpected status or memory growth.
 * Usage: npx tsx benchmarks/serve.bench.ts [--short] [--out benchmarks/results/serve.md]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const short = process.argv.includes('--short');
const outIdx = process.argv.indexOf('--out');
const JPG = readFileSync(join(root, 'samples/cdv/images/cdv_00000.jpg'));

interface Server {
  proc: ChildProcess;
  url: string;
}

async function startServer(args: string[]): Promise<Server> {
  const proc = spawn(process.execPath, [join(root, 'bin/maskbox.js'), 'serve', '--port', '0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { ...process.env, MASKBOX_QUIET: '1' },
  });
  const url = await new Promise<string>((resolve, reject) => {
    let err = '';
    const timer = setTimeout(() => reject(new Error(`server did not start: ${err}`)), 60_000);
    proc.stderr!.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /listening on (http:\/\/[\d.]+:\d+)/.exec(err);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
    proc.on('exit', (code) => reject(new Error(`server exited (${code}): ${err}`)));
  });
  return { proc, url };
}

async function stop(s: Server): Promise<void> {
  const done = new Promise((r) => s.proc.once('exit', r));
  s.proc.kill('SIGTERM');
  await done;
}

async function memory(url: string): Promise<{ rss: number; heap: number }> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const get = (name: string) => Number(new RegExp(`^${name} (\\S+)`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: get('maskbox_process_resident_memory_bytes'), heap: get('maskbox_nodejs_heap_size_used_bytes') };
}

type Result = Omit<autocannon.Result, 'statusCodeStats'> & { statusCodeStats?: Record<string, { count: number }> };

function run(opts: autocannon.Options): Promise<Result> {
  return new Promise((resolve, reject) => {
    autocannon(opts, (err, res) => (err ? reject(err) : resolve(res as Result)));
  });
}

function statuses(r: Result): Record<string, number> {
  return Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
}

const rows: string[][] = [];
let failures = 0;
function row(name: string, r: Result, note = ''): void {
  const st = statuses(r);
  rows.push([
    name,
    String(r.requests.total),
    r.requests.average.toFixed(1),
    String(r.latency.p50),
    String(r.latency.p99),
    Object.entries(st)
      .map(([k, v]) => `${k}: ${v}`)
      .join(', '),
    String(r.errors + r.timeouts),
    note,
  ]);
}

const mb = (b: number) => (b / 1048576).toFixed(1);

async function main(): Promise<void> {
  const s = await startServer(['--concurrency', '2', '--queue', '64']);
  try {
    // 1. detect
    const detect = await run({
      url: `${s.url}/v1/detect?format=csv`,
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: JPG,
      connections: 2,
      amount: short ? 20 : 100,
      timeout: 60,
    });
    row('detect 2048² JPEG (2 connections)', detect);
    if (detect.non2xx || detect.errors) failures++;

    // 2. sliders: post-processing only
    const first = (await (
      await fetch(`${s.url}/v1/detect`, { method: 'POST', headers: { 'content-type': 'image/jpeg' }, body: JPG })
    ).json()) as { upload_id: string };
    let k = 0;
    const sliderOpts = (amount: number): autocannon.Options => ({
      url: s.url,
      connections: 4,
      amount,
      timeout: 30,
      requests: [
        {
          method: 'GET',
          setupRequest: (req) => {
            k++;
            const conf = (0.2 + (k % 60) / 100).toFixed(2);
            const iou = (0.3 + (k % 40) / 100).toFixed(2);
            return { ...req, path: `/v1/uploads/${first.upload_id}/detections?conf=${conf}&iou=${iou}` };
          },
        },
      ],
    });
    const sliders = await run(sliderOpts(short ? 300 : 2000));
    row('slider: re-post-process kept output (4 connections)', sliders);
    if (sliders.non2xx || sliders.errors) failures++;

    // 4. memory over many requests (scenario 2 mixed with detects)
    const total = short ? 2000 : 10000;
    const samples: { n: number; rss: number; heap: number }[] = [{ n: 0, ...(await memory(s.url)) }];
    let done = 0;
    while (done < total) {
      const step = Math.min(1000, total - done);
      const r = await run(sliderOpts(step - 20));
      const d = await run({
        url: `${s.url}/v1/detect?keep=true`,
        method: 'POST',
        headers: { 'content-type': 'image/jpeg' },
        body: JPG,
        connections: 2,
        amount: 20,
        timeout: 60,
      });
      if (r.non2xx || d.non2xx || r.errors || d.errors) failures++;
      done += step;
      samples.push({ n: done, ...(await memory(s.url)) });
    }
    const base = samples[1]!; // after warm-up
    const last = samples[samples.length - 1]!;
    const growth = last.rss - base.rss;
    const memNote = `RSS ${samples.map((m) => mb(m.rss)).join(' → ')} MB; heap ${mb(base.heap)} → ${mb(last.heap)} MB`;
    if (growth > 150 * 1048576) failures++;
    rows.push(['memory over ' + total + ' requests', String(total), '', '', '', '', '', memNote]);
  } finally {
    await stop(s);
  }

  // 3. overload: concurrency 1 + queue 4 against 32 connections
  const o = await startServer(['--concurrency', '1', '--queue', '4']);
  try {
    const over = await run({
      url: `${o.url}/v1/detect?format=csv`,
      method: 'POST',
      headers: { 'content-type': 'image/jpeg' },
      body: JPG,
      connections: 32,
      amount: short ? 100 : 400,
      timeout: 60,
    });
    const st = statuses(over);
    const unexpected = Object.keys(st).filter((c) => c !== '200' && c !== '503');
    row(
      'overload: 32 connections vs concurrency 1 + queue 4',
      over,
      unexpected.length ? `UNEXPECTED ${unexpected}` : '',
    );
    if (unexpected.length || !st['503'] || !st['200'] || over.errors) failures++;
    const retry = await fetch(`${o.url}/v1/health`);
    if (retry.status !== 200) failures++;
  } finally {
    await stop(o);
  }

  const table = [
    `Load test of \`maskbox serve\` on loopback (${new Date().toISOString().slice(0, 10)}, ${cpus().length} cores: ${cpus()[0]?.model ?? '?'}${short ? ', --short' : ''}); bundled model, CPU provider.`,
    '',
    '| scenario | requests | req/s | p50 ms | p99 ms | status codes | errors | notes |',
    '|---|---:|---:|---:|---:|---|---:|---|',
    ...rows.map((r) => `| ${r.join(' | ')} |`),
    '',
  ].join('\n');
  console.log(table);
  if (outIdx > 0) writeFileSync(process.argv[outIdx + 1]!, table);
  if (failures) {
    console.error(`serve.bench: ${failures} check(s) failed (unexpected status codes, errors or memory growth)`);
    process.exitCode = 1;
  }
}

await main();
