/**
 * Distributed runs (issue 18): throughput of `maskbox submit detect` with 1, 2 and 4 local `maskbox worker`
 * processes on simulated CDV frames, and the queue's overhead per image against the local batch runner
 * (`maskbox detect`, one process, same images, same model). Starts its own redis-server (no persistence)
 * on a free port. Timings run from submit to the combined output written; worker start-up (loading
 * onnxruntime and the model) is excluded, local start-up likewise (the local time is the runner's own).
 * Run: node --import tsx benchmarks/distributed.bench.ts [--n 48] [--size 1024] [--repeats 2]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/index.js';
import { runStatus } from '../src/distributed/status.js';
import { submit } from '../src/distributed/submit.js';
import { machine, table } from './harness.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('n', 48);
const SIZE = arg('size', 1024);
const REPEATS = arg('repeats', 2);
const REPO = fileURLToPath(new URL('..', import.meta.url));
const DIR = join(tmpdir(), 'maskbox-bench-distributed');
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function quiet<T>(fn: () => Promise<T>): Promise<{ value: T; out: string }> {
  const w = process.stdout.write;
  let out = '';
  process.stdout.write = ((s: string | Uint8Array) => ((out += String(s)), true)) as typeof process.stdout.write;
  try {
    return { value: await fn(), out };
  } finally {
    process.stdout.write = w;
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

function startWorker(url: string, concurrency: number): Promise<ChildProcess> {
  const args = ['worker', '--queue', url, '--concurrency', String(concurrency)];
  const p = spawn(process.execPath, [join(REPO, 'bin/maskbox.js'), ...args], {
    env: { ...process.env, MASKBOX_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  return new Promise((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d) => {
      out += String(d);
      if (/ready/.test(out)) resolve(p);
    });
    p.once('exit', (c) => reject(new Error(`worker exited ${c}`)));
  });
}

async function stop(ps: ChildProcess[]): Promise<void> {
  await Promise.all(ps.map((p) => new Promise((r) => (p.once('exit', r), p.kill('SIGTERM')))));
}

/** The local command against 1..k worker processes (each `[workers, concurrency]`) on the same images. */
async function compare(
  url: string,
  kind: 'detect' | 'baseline',
  images: string,
  n: number,
  configs: (readonly [number, number])[],
): Promise<{ rows: (string | number)[][]; overheadMs: number }> {
  const rows: (string | number)[][] = [];
  // Local runner, in this process (timed by the runner itself: start-up excluded, like a warm worker).
  let localBest = Infinity;
  let localCsv = '';
  for (let r = 0; r < REPEATS; r++) {
    localCsv = join(DIR, `local-${kind}-${r}.csv`);
    const { out: json } = await quiet(() => main([kind, images, '--out', localCsv, '--json']));
    localBest = Math.min(localBest, (JSON.parse(json) as { seconds: number }).seconds);
  }
  rows.push([`local \`maskbox ${kind}\` (1 process)`, String(n), localBest, n / localBest, '', '']);
  let one = 0;
  for (const [workers, concurrency] of configs) {
    const ps = await Promise.all(Array.from({ length: workers }, () => startWorker(url, concurrency)));
    let best = Infinity;
    let identical = true;
    for (let r = 0; r < REPEATS; r++) {
      const run = `${kind}-w${workers}c${concurrency}r${r}`;
      const out = join(DIR, `dist-${run}.csv`);
      rmSync(join(DIR, `.maskbox-run-${run}`), { recursive: true, force: true });
      const t0 = performance.now();
      await submit({ queue: url, run, kind, inputs: [images], out });
      while ((await runStatus(url, run)).state !== 'done') await sleep(50);
      best = Math.min(best, (performance.now() - t0) / 1000);
      identical &&= readFileSync(out).equals(readFileSync(localCsv));
    }
    await stop(ps);
    if (workers === 1 && concurrency === 1) one = best;
    const label = `${workers} worker process${workers > 1 ? 'es' : ''}, --concurrency ${concurrency}`;
    rows.push([label, String(n), best, n / best, (one / best).toFixed(2), identical ? 'yes' : 'NO']);
  }
  return { rows, overheadMs: ((one - localBest) / n) * 1000 };
}

async function main_(): Promise<void> {
  const images = join(DIR, `sim-${N}-${SIZE}`, 'images');
  if (!existsSync(images)) {
    mkdirSync(DIR, { recursive: true });
    await quiet(() =>
      main([
        'simulate',
        'cdv',
        '--n',
        String(N),
        '--size',
        String(SIZE),
        '--seed',
        '18',
        '--out',
        join(DIR, `sim-${N}-${SIZE}`),
      ]),
    );
  }
  const port = await freePort();
  const url = `redis://127.0.0.1:${port}/0`;
  const redis = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    { stdio: 'ignore' },
  );
  await sleep(300);
  const load0 = loadavg()[0]!;
  try {
    const det = await compare(url, 'detect', images, N, [
      [1, 1],
      [1, 2],
      [2, 1],
      [4, 1],
    ]);
    const tinyDir = join(DIR, 'sim-200-64');
    if (!existsSync(tinyDir))
      await quiet(() => main(['simulate', 'cdv', '--n', '200', '--size', '64', '--seed', '18', '--out', tinyDir]));
    const tiny = await compare(url, 'baseline', join(tinyDir, 'images'), 200, [[1, 1]]);
    const header = ['runner', 'images', 'seconds', 'images/s', 'speed-up vs 1 worker', 'output identical to local'];
    const text =
      `Machine: ${machine()}; load average before: ${load0.toFixed(2)}, after: ${loadavg()[0]!.toFixed(2)}.\n\n` +
      `Throughput: ${N} simulated ${SIZE}x${SIZE} PNG frames, bundled detector (onnxruntime CPU), best of ${REPEATS}, ` +
      `from submit to the combined CSV written.\n\n${table(header, det.rows)}\n\n` +
      `Queue overhead per image, detector (1 worker, --concurrency 1 vs the local runner): ${det.overheadMs.toFixed(1)} ms\n\n` +
      `Queue overhead alone: 200 simulated 64x64 frames, DBSCAN baseline (almost no compute per image).\n\n` +
      `${table(header, tiny.rows)}\n\nQueue overhead per image (1 worker vs the local runner): ${tiny.overheadMs.toFixed(1)} ms\n`;
    process.stdout.write(text);
  } finally {
    redis.kill('SIGTERM');
  }
}

await main_();
