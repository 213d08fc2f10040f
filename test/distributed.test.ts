/**
 * Distributed runs against a real redis-server started here (127.0.0.1, a free port, no persistence
 * unless a test asks for a snapshot) and real `maskbox worker` processes: a worker killed with SIGKILL
 * mid-run, a poisoned input, Redis stopped and started mid-run, and the errors for a bad queue URL, an
 * unreachable Redis and a wrong run name. Every run's outputs must be byte-identical to the local
 * command's on the same inputs. Skipped (with the reason) when redis-server is not installed, except in
 * CI, where that is a failure.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Job, Queue } from 'bullmq';
import { zipSync } from 'fflate';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMBINE_QUEUE, IMAGE_QUEUE } from '../src/distributed/connection.js';
import { runStatus, type RunStatus } from '../src/distributed/status.js';
import { submit } from '../src/distributed/submit.js';
import { cli } from './distributedHelpers.js';
import { REPO } from './helpers.js';

const HAS_REDIS = spawnSync('redis-server', ['--version']).status === 0;
const IN_CI = process.env.CI === 'true' || process.env.CI === '1';
const SEG_MODEL = join(REPO, 'test/fixtures/models/tiny_seg_fold0.onnx');

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn().catch(() => undefined);
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

/** A redis-server of our own; `dir` holds its snapshot when it is stopped with SHUTDOWN SAVE. */
class RedisServer {
  proc?: ChildProcess;
  constructor(
    readonly port: number,
    readonly dir: string,
  ) {}
  get url(): string {
    return `redis://127.0.0.1:${this.port}/0`;
  }
  async start(): Promise<void> {
    this.proc = spawn(
      'redis-server',
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', this.dir],
      { stdio: 'ignore' },
    );
    await until(
      'redis-server to answer',
      async () => {
        const r = new Redis({ port: this.port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => null });
        r.on('error', () => {});
        try {
          await r.connect();
          return (await r.ping()) === 'PONG';
        } finally {
          r.disconnect();
        }
      },
      10_000,
    );
  }
  /** Stop as an operator would, keeping the data (a snapshot the next start loads). */
  async stopSaving(): Promise<void> {
    const r = new Redis({ port: this.port, host: '127.0.0.1', retryStrategy: () => null, maxRetriesPerRequest: 0 });
    r.on('error', () => {});
    const exited = this.exited();
    await r.call('SHUTDOWN', 'SAVE').catch(() => {}); // the server closes the connection: no reply
    r.disconnect();
    await exited;
  }
  async exited(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null || p.signalCode !== null) return;
    await new Promise((r) => p.once('exit', r));
  }
  async kill(): Promise<void> {
    this.proc?.kill('SIGKILL');
    await this.exited();
  }
}

/** A `maskbox worker` process. */
class WorkerProc {
  readonly proc: ChildProcess;
  readonly ready: Promise<string>;
  log = '';
  constructor(url: string, extra: string[] = []) {
    this.proc = spawn(
      process.execPath,
      [...FROM_SOURCE, 'worker', '--queue', url, '--lock-ms', '2000', '--stalled-ms', '500', ...extra],
      { cwd: REPO, env: { ...process.env, MASKBOX_QUIET: '1' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    this.proc.stderr!.on('data', (d) => (this.log += String(d)));
    this.ready = new Promise((resolve, reject) => {
      let out = '';
      this.proc.stdout!.on('data', (d) => {
        out += String(d);
        const m = /maskbox worker (\S+) ready/.exec(out);
        if (m) resolve(m[1]!);
      });
      this.proc.once('exit', (code) => reject(new Error(`worker exited (${code}) before ready: ${this.log}`)));
    });
  }
  get name(): Promise<string> {
    return this.ready;
  }
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    const p = this.proc;
    if (p.exitCode !== null || p.signalCode !== null) return p.exitCode;
    const done = new Promise<number | null>((r) => p.once('exit', (code) => r(code)));
    p.kill(signal);
    return done;
  }
}

async function waitDone(url: string, run: string, timeoutMs = 150_000): Promise<RunStatus> {
  return until(
    `run ${run} to finish`,
    async () => {
      const s = await runStatus(url, run);
      return s.state === 'done' || s.state === 'failed' ? s : undefined;
    },
    timeoutMs,
  );
}

const bytes = (p: string) => readFileSync(p);

/** `node <these> worker ...` runs the CLI from src/ (bin/maskbox.js would prefer a dist/ that may be stale). */
const FROM_SOURCE = [
  '--import',
  'tsx',
  '--input-type=module',
  '-e',
  `const { main } = await import(${JSON.stringify(pathToFileURL(join(REPO, 'src/cli/index.ts')).href)});` +
    ' process.exitCode = await main(process.argv.slice(1));',
  '--',
];

if (!HAS_REDIS && !IN_CI) {
  describe.skip('distributed runs (redis-server is not installed: apt-get install redis-server)', () => {
    it('needs redis-server', () => {});
  });
} else {
  describe('distributed runs on BullMQ + a real redis-server', () => {
    let redis: RedisServer;
    let dir: string;
    let images: string;
    const workers: WorkerProc[] = [];

    beforeAll(async () => {
      expect(HAS_REDIS, 'redis-server must be installed (CI installs it in .ci/run)').toBe(true);
      dir = mkdtempSync(join(tmpdir(), 'maskbox-dist-'));
      redis = new RedisServer(await freePort(), dir);
      await redis.start();
      images = join(dir, 'sim');
      const r = await cli(['simulate', 'cdv', '--n', '44', '--size', '160', '--seed', '11', '--out', images]);
      expect(r.code).toBe(0);
      images = join(images, 'images');
    });

    afterAll(async () => {
      await Promise.all(workers.map((w) => w.stop('SIGKILL')));
      await redis?.kill();
    });

    const startWorkers = async (n: number, extra: string[] = []) => {
      const ws = Array.from({ length: n }, () => new WorkerProc(redis.url, extra));
      workers.push(...ws);
      await Promise.all(ws.map((w) => w.ready));
      return ws;
    };

    it('survives a worker killed with SIGKILL mid-run: every image once, output identical to maskbox detect', async () => {
      const local = join(dir, 'local-detect.csv');
      expect((await cli(['detect', images, '--out', local])).code).toBe(0);

      const out = join(dir, 'dist', 'detect.csv');
      const s = await submit({ queue: redis.url, run: 'kill', kind: 'detect', inputs: [images], out });
      expect(s).toMatchObject({ state: 'submitted', total: 44, queued: 44, jobs: 44 });
      // Submitting a run that is still in progress adds nothing.
      expect(await submit({ queue: redis.url, run: 'kill', kind: 'detect', inputs: [images], out })).toMatchObject({
        state: 'in-progress',
        jobs: 0,
      });

      // The victim takes two jobs at a time, so it always holds one when it is killed.
      const [rest, [victim]] = await Promise.all([startWorkers(2), startWorkers(1, ['--concurrency', '2'])]);
      const victimName = await victim!.name;
      const q = new Queue(IMAGE_QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
      try {
        // Kill the victim while it holds jobs, after the run is under way. It is frozen (SIGSTOP) first and
        // its jobs read again: on a fast machine a job seen active can complete before the kill lands.
        const mine = async () => (await q.getJobs(['active'])).filter((j) => j.processedBy === victimName);
        const held = await until(
          'the victim to hold a job',
          async () => {
            const s = await runStatus(redis.url, 'kill');
            if (s.done < 3 || (await mine()).length === 0) return undefined;
            victim!.proc.kill('SIGSTOP');
            await sleep(200); // commands it sent before it froze land meanwhile
            const frozen = await mine();
            if (frozen.length > 0) return frozen;
            victim!.proc.kill('SIGCONT');
            return undefined;
          },
          120_000,
        );
        victim!.proc.kill('SIGKILL');
        const st = await waitDone(redis.url, 'kill');
        expect(st).toMatchObject({ state: 'done', total: 44, done: 44, failed: 0 });
        // A job the victim held was run again by another worker.
        const again = await Promise.all(held.map((j) => Job.fromId(q, j.id!)));
        expect(Math.max(...again.map((j) => j!.attemptsStarted + j!.stalledCounter))).toBeGreaterThanOrEqual(2);
        for (const j of again) expect(await j!.getState()).toBe('completed');
      } finally {
        await q.close();
      }
      expect(bytes(out).equals(bytes(local))).toBe(true);
      // Exactly once: one result per image in the work folder, one block of rows per image in the CSV.
      expect(
        readdirSync(join(dir, 'dist', '.maskbox-run-kill', 'parts')).filter((f) => f.endsWith('.json')),
      ).toHaveLength(44);
      const names = readFileSync(out, 'utf8')
        .trim()
        .split('\n')
        .slice(1)
        .map((l) => l.split(',')[0]);
      const blocks = names.filter((n, i) => n !== names[i - 1]);
      expect(new Set(blocks).size).toBe(blocks.length);

      // Re-submitting a finished run skips every image and writes the same outputs again.
      const again = await submit({ queue: redis.url, run: 'kill', kind: 'detect', inputs: [images], out });
      expect(again).toMatchObject({ state: 'submitted', generation: 2, queued: 0, skipped: 44 });
      expect((await waitDone(redis.url, 'kill')).generation).toBe(2);
      expect(bytes(out).equals(bytes(local))).toBe(true);
      // Redis loses everything (no persistence) and two results are lost too: submitting again recomputes
      // only those two, from the work folder, and writes the same outputs.
      const flush = new Redis({ port: redis.port, host: '127.0.0.1' });
      await flush.flushall();
      flush.disconnect();
      for (const i of [5, 40]) rmSync(join(dir, 'dist', '.maskbox-run-kill', 'parts', `${i}.json`));
      rmSync(out);
      const fresh = await submit({ queue: redis.url, run: 'kill', kind: 'detect', inputs: [images], out });
      expect(fresh).toMatchObject({ state: 'submitted', generation: 1, queued: 2, skipped: 42, jobs: 2 });
      expect(await waitDone(redis.url, 'kill')).toMatchObject({ done: 44, failed: 0 });
      expect(bytes(out).equals(bytes(local))).toBe(true);
      await Promise.all(rest.map((w) => w.stop()));
    }, 240_000);

    it('fails only the poisoned image, after the configured attempts, and lists it; COCO output as maskbox baseline', async () => {
      const poison = join(dir, 'poison');
      spawnSync('mkdir', ['-p', poison]);
      writeFileSync(
        join(poison, 'corrupt.png'),
        Buffer.concat([Buffer.from('\x89PNG\r\n\x1a\n'), Buffer.alloc(64, 7)]),
      );
      const inputs = [join(images, 'cdv_0000*.png'), join(poison, 'corrupt.png'), join(images, 'cdv_0001*.png')];
      const local = join(dir, 'local-baseline', 'res.json');
      const l = await cli(['baseline', ...inputs, '--out', local]);
      expect(l.code).toBe(1); // the local command also fails that one image

      const out = join(dir, 'dist-baseline', 'res.json');
      await submit({ queue: redis.url, run: 'poison', kind: 'baseline', inputs, out, attempts: 2, backoffMs: 50 });
      const ws = await startWorkers(2);
      const st = await waitDone(redis.url, 'poison');
      expect(st).toMatchObject({ state: 'done', total: 21, done: 20, failed: 1 });
      expect(st.errors).toHaveLength(1);
      expect(st.errors[0]!.name).toBe('corrupt.png');
      expect(st.errors[0]!.message).toMatch(/corrupt\.png/);
      const q = new Queue(IMAGE_QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
      try {
        const failed = await q.getJobs(['failed']);
        expect(failed).toHaveLength(1);
        expect(failed[0]!.attemptsMade).toBe(2);
        expect(failed[0]!.data.items[0].name).toBe('corrupt.png');
      } finally {
        await q.close();
      }
      expect(bytes(out).equals(bytes(local))).toBe(true);
      expect(
        bytes(out.replace(/\.json$/, '.images.json')).equals(bytes(local.replace(/\.json$/, '.images.json'))),
      ).toBe(true);
      // The CLI's status shows the error list and exits 1.
      const c = await cli(['status', '--queue', redis.url, '--run', 'poison']);
      expect(c.code).toBe(1);
      expect(c.stderr).toMatch(/1 image\(s\) failed:[\s\S]*corrupt\.png/);
      const j = await cli(['status', '--queue', redis.url, '--run', 'poison', '--watch', '--json']);
      expect(j.code).toBe(1);
      expect(JSON.parse(j.stdout)).toMatchObject({ state: 'done', total: 21, done: 20, failed: 1, waiting: 0 });
      await Promise.all(ws.map((w) => w.stop()));
    }, 240_000);

    it('finishes a run when Redis is stopped and started again mid-run (segment, submission CSV as maskbox segment)', async () => {
      const local = join(dir, 'local-seg.csv');
      expect((await cli(['segment', images, '--model', SEG_MODEL, '--out', local])).code).toBe(0);
      const out = join(dir, 'dist-seg', 'sub.csv');
      await submit({
        queue: redis.url,
        run: 'restart',
        kind: 'segment',
        inputs: [images],
        out,
        segment: { models: [SEG_MODEL] },
      });
      // At most 10 images/s (kept in Redis across the restart), so that the run is still going when Redis
      // stops even on a fast machine.
      const rq = new Queue(IMAGE_QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
      await rq.setGlobalRateLimit(1, 100);
      await rq.close();
      const [w] = await startWorkers(1);
      // Stop Redis as soon as the first results are in (watching the work folder, not the queue).
      const parts = join(dir, 'dist-seg', '.maskbox-run-restart', 'parts');
      const count = () => (existsSync(parts) ? readdirSync(parts).filter((f) => f.endsWith('.json')).length : 0);
      const end = Date.now() + 120_000;
      while (count() < 1 && Date.now() < end) await sleep(5);
      await redis.stopSaving();
      const atStop = count();
      const pid = redis.proc!.pid;
      await sleep(1500); // the worker is cut off meanwhile
      expect(count()).toBeLessThanOrEqual(atStop + 1); // nothing goes on without Redis but the image in hand
      await redis.start();
      expect(redis.proc!.pid).not.toBe(pid);
      expect(atStop).toBeGreaterThan(0);
      expect(atStop).toBeLessThan(40); // the restart happened mid-run
      const st = await waitDone(redis.url, 'restart');
      const unlimit = new Queue(IMAGE_QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
      await unlimit.removeGlobalRateLimit(); // the later tests run at full speed
      await unlimit.close();
      expect(st).toMatchObject({ state: 'done', total: 44, done: 44, failed: 0 });
      expect(bytes(out).equals(bytes(local))).toBe(true);
      expect(w!.log).toMatch(/queue connection problem \(retrying\)/); // the worker was cut off, and reconnected
      expect(await w!.stop()).toBe(0); // and a graceful stop on SIGTERM
    }, 240_000);

    it('chunks of images, a zip archive, an http URL, per-image CSVs and overlays: as maskbox baseline', async () => {
      const zipDir = join(dir, 'zip');
      mkdirSync(zipDir, { recursive: true });
      const entries: Record<string, Uint8Array> = {};
      for (const f of ['cdv_00020.png', 'cdv_00021.png']) entries[`z/${f}`] = readFileSync(join(images, f));
      writeFileSync(join(zipDir, 'batch.zip'), zipSync(entries));
      writeFileSync(join(zipDir, 'corrupt.png'), Buffer.alloc(100, 1));
      // Same stem as cdv_00000.png: both commands name their outputs cdv_00000_png_*, cdv_00000_jpg_*.
      writeFileSync(join(zipDir, 'cdv_00000.jpg'), readFileSync(join(images, 'cdv_00001.png')));
      const inputs = [
        join(images, 'cdv_0000*.png'),
        join(zipDir, 'batch.zip'),
        join(zipDir, 'corrupt.png'),
        join(zipDir, 'cdv_00000.jpg'),
      ];
      const local = join(dir, 'local-chunks');
      expect((await cli(['baseline', ...inputs, '--out', local, '--overlay', join(local, 'ov')])).code).toBe(1);

      const png = readFileSync(join(images, 'cdv_00003.png'));
      const server = createHttpServer((req, res) => {
        if (req.url === '/remote/r.png') res.end(png);
        else res.writeHead(404).end();
      });
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
      const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/remote/r.png`;
      try {
        const out = join(dir, 'dist-chunks');
        const s = await submit({
          queue: redis.url,
          run: 'chunks',
          kind: 'baseline',
          inputs: [...inputs, url],
          out,
          overlay: join(out, 'ov'),
          chunk: 4,
          attempts: 2,
          backoffMs: 50,
          workDir: join(dir, 'work-chunks'),
        });
        expect(s).toMatchObject({ total: 15, jobs: 4 });
        const ws = await startWorkers(2, ['--concurrency', '2']);
        const st = await waitDone(redis.url, 'chunks');
        expect(st).toMatchObject({ state: 'done', total: 15, done: 14, failed: 1 });
        expect(st.errors[0]!.name).toBe('corrupt.png');
        const files = (d: string) =>
          readdirSync(d, { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => join(e.parentPath, e.name).slice(d.length))
            .sort();
        const want = files(local);
        expect(want).toContain('/cdv_00000_jpg_result.csv');
        expect(want).toContain('/ov/cdv_00000_png_overlay.png');
        expect(files(out)).toEqual([...want, '/ov/r_overlay.png', '/r_result.csv'].sort());
        for (const f of want) expect(bytes(join(out, f)).equals(bytes(join(local, f))), f).toBe(true);
        // The URL's image is cdv_00003.png: the same result under its own name.
        expect(bytes(join(out, 'r_result.csv')).equals(bytes(join(local, 'cdv_00003_result.csv')))).toBe(true);
        await Promise.all(ws.map((w) => w.stop()));
      } finally {
        server.close();
      }
    }, 240_000);

    it("detect's model flags (--tile, --overlap, --channel-stretch, --input-size|scale, --layout, ...): as maskbox detect", async () => {
      const model = join(REPO, 'test/fixtures/models/tiny_dynamic.onnx');
      const inputs = [join(images, 'cdv_0000*.png'), '--model', model];
      const submitArgs = (run: string, out: string, ...flags: string[]) => [
        'submit',
        'detect',
        ...inputs,
        '--queue',
        redis.url,
        '--run',
        run,
        '--out',
        out,
        ...flags,
      ];
      const plainOut = join(dir, 'flags-plain.csv');
      expect((await cli(['detect', ...inputs, '--out', plainOut])).code).toBe(0);
      const runs = [
        ['tiled', 'csv', '--tile 64 --overlap 0.25 --channel-stretch 1,99 --input-size 64'],
        [
          'scaled',
          'json',
          '--input-scale 0.3 --layout yolov5 --tile 96 --full-frame --flip-tta --channel-stretch none --conf 0.3',
        ],
      ] as const;
      const ws = await startWorkers(2);
      for (const [run, ext, text] of runs) {
        const flags = text.split(' ');
        const local = join(dir, `flags-local-${run}.${ext}`);
        expect((await cli(['detect', ...inputs, '--out', local, ...flags])).code).toBe(0);
        const out = join(dir, 'flags', `${run}.${ext}`);
        const s = await cli(submitArgs(run, out, ...flags));
        expect(s.code, s.stderr).toBe(0);
        expect(await waitDone(redis.url, run)).toMatchObject({ state: 'done', total: 10, done: 10, failed: 0 });
        expect(bytes(out).equals(bytes(local)), run).toBe(true);
        if (ext === 'json') {
          const imageList = (p: string) => bytes(p.replace(/\.json$/, '.images.json'));
          expect(imageList(out).equals(imageList(local))).toBe(true);
        }
        // The flags changed the result (the comparison is not between two default runs).
        expect(bytes(local).equals(bytes(plainOut))).toBe(false);
      }
      const spec = (run: string) =>
        JSON.parse(readFileSync(join(dir, 'flags', `.maskbox-run-${run}`, 'spec.json'), 'utf8')).detect;
      expect(spec('tiled')).toMatchObject({ tile: 64, overlap: 0.25, channelStretch: [1, 99], inputSize: 64 });
      expect(spec('scaled')).toMatchObject({ inputSize: { scale: 0.3 }, layout: 'yolov5', tile: 96, fullFrame: true });
      expect(spec('scaled')).toMatchObject({ flipTta: true, channelStretch: null, conf: 0.3 });
      expect(spec('scaled').overlap).toBeUndefined(); // the default is not stored

      // A run submitted before the flags were forwarded (its spec has none of them) is continued, not
      // refused as a run with other options, and gives the local command's default output.
      const out = join(dir, 'flags', 'old.csv');
      const old = {
        run: 'old',
        kind: 'detect',
        workDir: join(dir, 'flags', '.maskbox-run-old'),
        output: { kind: 'csv-combined', path: out },
        total: 10,
        chunk: 1,
        detect: { model, conf: 0.4, iou: 0.45, maxDetections: 1000, agnostic: false, batch: 1 },
      };
      const r = new Redis({ port: redis.port, host: '127.0.0.1' });
      await r.set('maskbox:run:old', JSON.stringify({ spec: old, gen: 1, parentId: 'old.1', total: 10 }));
      r.disconnect();
      const again = await cli(submitArgs('old', out, '--json'));
      expect(again.code, again.stderr).toBe(0);
      expect(JSON.parse(again.stdout)).toMatchObject({ state: 'submitted', generation: 2, queued: 10 });
      expect(await waitDone(redis.url, 'old')).toMatchObject({ state: 'done', done: 10, failed: 0 });
      expect(bytes(out).equals(bytes(plainOut))).toBe(true);
      await Promise.all(ws.map((w) => w.stop()));
    }, 240_000);

    it('bad queue URL, unreachable Redis, wrong run name: a clear error, non-zero exit, nothing written', async () => {
      const out = join(dir, 'never', 'x.csv');
      const bad = await cli(['submit', 'detect', images, '--queue', 'http://127.0.0.1/0', '--run', 'x', '--out', out]);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toMatch(/--queue.*redis:/);
      const port = await freePort();
      const down = await cli([
        'submit',
        'baseline',
        images,
        '--queue',
        `redis://127.0.0.1:${port}/0`,
        '--run',
        'x',
        '--out',
        out,
      ]);
      expect(down.code).toBe(1);
      expect(down.stderr).toMatch(new RegExp(`cannot reach Redis at redis://127.0.0.1:${port}/0: ECONNREFUSED`));
      const name = await cli(['submit', 'baseline', images, '--queue', redis.url, '--run', 'no spaces', '--out', out]);
      expect(name.code).toBe(2);
      expect(name.stderr).toMatch(/--run/);
      expect(existsSync(join(dir, 'never'))).toBe(false);
      // The local commands' output checks: an input is never an output; an existing file needs --overwrite.
      const gt = join(images, '..', 'annotations.json');
      const onInput = await cli([
        'submit',
        'detect',
        images,
        '--queue',
        redis.url,
        '--run',
        'y',
        '--coco-gt',
        gt,
        '--out',
        gt,
      ]);
      expect(onInput.code).toBe(2);
      expect(onInput.stderr).toMatch(/refusing to overwrite an input/);
      const same = await cli([
        'submit',
        'baseline',
        images,
        '--queue',
        redis.url,
        '--run',
        'z',
        '--out',
        join(dir, 'local-detect.csv'),
      ]);
      expect(same.code).toBe(2);
      expect(same.stderr).toMatch(/already exists and this run did not create it: pass --overwrite/);

      const st = await cli(['status', '--queue', redis.url, '--run', 'nosuchrun']);
      expect(st.code).toBe(1);
      expect(st.stderr).toMatch(/no run named 'nosuchrun'/);
      const w = await cli(['worker', '--queue', `redis://127.0.0.1:${port}/0`]);
      expect(w.code).toBe(1);
      expect(w.stderr).toMatch(/cannot reach Redis/);
      // Nothing was added to the queue by the failed submissions.
      const q = new Queue(COMBINE_QUEUE, { connection: { host: '127.0.0.1', port: redis.port } });
      try {
        expect(await Job.fromId(q, 'x.1')).toBeUndefined();
      } finally {
        await q.close();
      }
    }, 60_000);
  });
}
