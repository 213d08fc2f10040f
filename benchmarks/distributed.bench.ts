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

function startWorker(url: string): Promise<ChildProcess> {
  const p = spawn(process.execPath, [join(REPO, 'bin/maskbox.js'), 'worker', '--queue', url], {
    env: { ...process.env, MASKBOX_QUIET: '1' },
    stdio: ['ignore', 'pipe', 'inherit'],
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
  const rows: (string | number)[][] = [];
  try {
    // Local runner, in this process (model loaded first, like a warm worker).
    let localBest = Infinity;
    let localCsv = '';
    for (let r = 0; r < REPEATS; r++) {
      const out = join(DIR, `local-${r}.csv`);
      const { out: json } = await quiet(() => main(['detect', images, '--out', out, '--json']));
      const s = JSON.parse(json) as { seconds: number };
      localBest = Math.min(localBest, s.seconds);
      localCsv = out;
    }
    rows.push(['local `maskbox detect` (1 process)', N, localBest, N / localBest, 1, '']);
    let one = 0;
    for (const workers of [1, 2, 4]) {
      const ps = await Promise.all(Array.from({ length: workers }, () => startWorker(url)));
      let best = Infinity;
      let identical = true;
      for (let r = 0; r < REPEATS; r++) {
        const out = join(DIR, `dist-${workers}-${r}.csv`);
        rmSync(join(DIR, `.maskbox-run-w${workers}r${r}`), { recursive: true, force: true });
        const t0 = performance.now();
        await submit({ queue: url, run: `w${workers}r${r}`, kind: 'detect', inputs: [images], out });
        for (;;) {
          const s = await runStatus(url, `w${workers}r${r}`);
          if (s.state === 'done') break;
          await sleep(50);
        }
        best = Math.min(best, (performance.now() - t0) / 1000);
        identical &&= readFileSync(out).equals(readFileSync(localCsv));
      }
      await stop(ps);
      if (workers === 1) one = best;
      rows.push([`${workers} worker process(es)`, N, best, N / best, one / best, identical ? 'yes' : 'NO']);
    }
    const overheadMs = ((one - localBest) / N) * 1000;
    const text =
      `Machine: ${machine()}; load average before: ${load0.toFixed(2)}, after: ${loadavg()[0]!.toFixed(2)}.\n` +
      `${N} simulated ${SIZE}x${SIZE} PNG frames, bundled detector (onnxruntime CPU), best of ${REPEATS}.\n\n` +
      table(['runner', 'images', 'seconds', 'images/s', 'speed-up vs 1 worker', 'output identical to local'], rows) +
      `\n\nQueue overhead per image (1 worker vs local runner): ${overheadMs.toFixed(1)} ms\n`;
    process.stdout.write(text);
  } finally {
    redis.kill('SIGTERM');
  }
}

await main_();
