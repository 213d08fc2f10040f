/**
 * The native addon's boundary: the loader's status and reasons, the JS fallback (in child processes),
 * argument errors as JS exceptions (never crashes), bit-identical IoU, and NMS equal to the reference on
 * inputs that exercise the grid (clusters, huge boxes, points, classes, ties). The op specs themselves
 * (test/nms.test.ts, ...) run on the cpu backend through describeEachBackend.
 *
 * With MASKBOX_REQUIRE_NATIVE=1 (CI after a successful build) a missing addon is a failure, not a skip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadNative, nativeStatus, NOT_BUILT_REASON } from '../bindings/native.js';
import { backends } from '../src/backends/status.js';
import { dispatch } from '../src/backends/registry.js';
import type { OpArgs } from '../src/ops/table.js';
import { iou as iouReference } from '../src/backends/js/iou.js';
import { nms as nmsReference } from '../src/backends/js/nms.js';
import { boxIou } from '../src/ops/iou.js';
import { nms } from '../src/ops/nms.js';
import { REPO, rng } from './helpers.js';

const status = nativeStatus();
const addon = loadNative();
const requireNative = process.env.MASKBOX_REQUIRE_NATIVE === '1';

/** Run a module snippet in a fresh node (tsx loader) with extra env; returns stdout/stderr. */
function child(
  code: string,
  env: Record<string, string | undefined>,
): { stdout: string; stderr: string; status: number | null } {
  const e: Record<string, string | undefined> = { ...process.env, ...env };
  delete e.VITEST; // the fallback notice is silenced under vitest; this child is not a test
  delete e.MASKBOX_QUIET;
  if (env.MASKBOX_QUIET) e.MASKBOX_QUIET = env.MASKBOX_QUIET;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    cwd: REPO,
    env: e as NodeJS.ProcessEnv,
    encoding: 'utf8',
    timeout: 60_000,
  });
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

const FALLBACK_SCRIPT = `
const { nms, backends } = await import('./src/index.ts');
const b = new Float32Array([0, 0, 10, 10, 1, 1, 11, 11]), s = new Float32Array([0.9, 0.8]);
const r1 = await nms(b, s), r2 = await nms(b, s);
let err = null;
try { await nms(b, s, { backend: 'cpu' }); } catch (e) { err = e.name + ': ' + e.message; }
console.log(JSON.stringify({ ran: [r1.backend, r2.backend], kept: Array.from(r1.indices), err, cpu: backends()[1] }));
`;

describe('native loader', () => {
  it('reports availability with an exact reason', () => {
    if (requireNative) expect(status.available, status.reason).toBe(true);
    expect(status.reason.length).toBeGreaterThan(10);
    if (status.available) {
      expect(status.info!.ops).toEqual(expect.arrayContaining(['iou', 'nms']));
      expect(status.info!.napiVersion).toBe(8);
    } else {
      expect(status.reason).toMatch(/not built|failed to load|disabled by|missing file/);
    }
    const cpu = backends().find((b) => b.name === 'cpu')!;
    expect(cpu).toEqual({ name: 'cpu', available: status.available, reason: status.reason });
    expect(backends().map((b) => b.name)).toEqual(['js', 'cpu', 'cuda', 'webgpu']);
  });

  it('MASKBOX_NO_NATIVE=1: auto runs JS, one notice on stderr, backend cpu fails with the reason', () => {
    const r = child(FALLBACK_SCRIPT, { MASKBOX_NO_NATIVE: '1' });
    expect(r.status, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.ran).toEqual(['js', 'js']);
    expect(out.kept).toEqual([0]);
    expect(out.err).toBe("BackendUnavailableError: backend 'cpu' is unavailable: disabled by MASKBOX_NO_NATIVE=1");
    expect(out.cpu).toEqual({ name: 'cpu', available: false, reason: 'disabled by MASKBOX_NO_NATIVE=1' });
    const notices = r.stderr.split('\n').filter((l) => l.startsWith('maskbox:'));
    expect(notices).toEqual([
      'maskbox: native CPU backend unavailable, using JavaScript kernels: disabled by MASKBOX_NO_NATIVE=1 (set MASKBOX_QUIET=1 to hide this)',
    ]);
  });

  it('MASKBOX_QUIET=1 silences the notice', () => {
    const r = child(FALLBACK_SCRIPT, { MASKBOX_NO_NATIVE: '1', MASKBOX_QUIET: '1' });
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/maskbox:/);
  });

  it('reports a missing file and a file that does not load with their exact cause', () => {
    const missing = child(FALLBACK_SCRIPT, { MASKBOX_NATIVE_PATH: '/nonexistent/maskbox.node', MASKBOX_QUIET: '1' });
    expect(JSON.parse(missing.stdout).cpu.reason).toBe(
      'MASKBOX_NATIVE_PATH points to a missing file: /nonexistent/maskbox.node',
    );
    const bad = join(mkdtempSync(join(tmpdir(), 'maskbox-')), 'bad.node');
    writeFileSync(bad, 'not an ELF file');
    const r = child(FALLBACK_SCRIPT, { MASKBOX_NATIVE_PATH: bad, MASKBOX_QUIET: '1' });
    const cpu = JSON.parse(r.stdout).cpu;
    expect(cpu.available).toBe(false);
    expect(cpu.reason).toContain(`the native addon failed to load (${bad}): `);
    expect(cpu.reason).toMatch(/invalid ELF header|file too short/);
    expect(NOT_BUILT_REASON).toBe(
      'the native addon was not built: run `npm run build:native` (needs cmake and a C++17 compiler)',
    );
  });
});

function randomBoxes(
  r: () => number,
  n: number,
  opts: { snap?: boolean; clusters?: number; huge?: number } = {},
): Float32Array {
  const b = new Float32Array(n * 4);
  const centers = Array.from({ length: opts.clusters ?? 0 }, () => [r() * 2000, r() * 2000] as const);
  for (let i = 0; i < n; i++) {
    let x: number, y: number;
    let w = Math.exp(r() * Math.log(200)),
      h = w * (0.5 + r());
    if (centers.length) {
      const c = centers[Math.floor(r() * centers.length)]!;
      x = c[0] + (r() - 0.5) * 20 - w / 2;
      y = c[1] + (r() - 0.5) * 20 - h / 2;
    } else {
      x = r() * 2000;
      y = r() * 2000;
    }
    if (opts.huge && r() < opts.huge) [x, y, w, h] = [r() * 100, r() * 100, 1500 + r() * 500, 1500 + r() * 500];
    if (r() < 0.02) w = 0; // degenerate
    if (opts.snap) [x, y, w, h] = [Math.round(x), Math.round(y), Math.round(w), Math.round(h)];
    b.set([x, y, x + w, y + h], i * 4);
  }
  return b;
}

const describeNative = addon ? describe : describe.skip;

describeNative('native addon (direct calls)', () => {
  const a = addon!;
  const ok = () => ({
    boxes: new Float32Array(8),
    scores: new Float32Array(2),
    classes: null as Int32Array | null,
    iouThreshold: 0.5,
    scoreThreshold: -Infinity,
    maxCandidates: 2,
    maxDetections: 2,
  });

  it('throws a JS TypeError/RangeError naming the argument for bad input (no crash)', () => {
    const cases: [unknown, string, RegExp][] = [
      [undefined, 'args', /an options object/],
      [{ ...ok(), boxes: new Float32Array(7) }, 'boxes', /multiple of 4/],
      [
        { ...ok(), boxes: new Float64Array(8) },
        'boxes',
        /Expected a Float32Array for boxes but received Float64Array of length 8/,
      ],
      [{ ...ok(), scores: new Float32Array(3) }, 'scores', /one score per box.*length 3/],
      [{ ...ok(), classes: new Int32Array(1) }, 'classes', /one class per box/],
      [{ ...ok(), classes: new Float32Array(2) }, 'classes', /Int32Array/],
      [{ ...ok(), iouThreshold: 1.5 }, 'iouThreshold', /between 0 and 1/],
      [{ ...ok(), iouThreshold: NaN }, 'iouThreshold', /received NaN/],
      [{ ...ok(), scoreThreshold: 'x' }, 'scoreThreshold', /a number/],
      [{ ...ok(), maxCandidates: 1.5 }, 'maxCandidates', /an integer/],
      [{ ...ok(), maxDetections: -1 }, 'maxDetections', /an integer/],
    ];
    for (const [args, name, msg] of cases) {
      let err: any;
      try {
        void a.nms(args as any);
      } catch (e) {
        err = e;
      }
      expect(err, name).toBeInstanceOf(Error);
      expect(err.name).toMatch(/^(TypeError|RangeError)$/);
      expect(err.code).toBe('ERR_MASKBOX_NATIVE_ARGUMENT');
      expect(err.argument).toBe(name);
      expect(err.message).toMatch(/^maskbox native nms: Expected /);
      expect(err.message).toMatch(msg);
    }
    const b4 = new Float32Array(4);
    expect(() => a.iou({ a: b4, b: b4, out: new Float32Array(2) })).toThrow(/for out but received length 2/);
    expect(() => a.iou({ a: new Float32Array(5), b: b4, out: new Float32Array(1) })).toThrow(/multiple of 4 for a/);
    expect(() => (a.iou as any)({ a: b4, b: b4 })).toThrow(/Float32Array for out but received undefined/);
  });

  it('an error from a native kernel run through dispatch names the calling code in its stack', async () => {
    // Validation is bypassed on purpose (dispatch directly) so that the addon itself rejects the call.
    async function callerNamedInTheStack() {
      const bad = { boxes: new Float32Array(7), scores: new Float32Array(2), iouThreshold: 0.5 };
      return await dispatch('nms', bad as unknown as OpArgs<'nms'>, 'cpu', 0);
    }
    const err = await callerNamedInTheStack().then(
      () => null,
      (e: unknown) => e as Error & { code?: string },
    );
    expect(err?.code).toBe('ERR_MASKBOX_NATIVE_ARGUMENT');
    expect(err?.stack).toMatch(/^(TypeError|RangeError): maskbox native nms: Expected /);
    expect(err?.stack).toMatch(/at (async )?callerNamedInTheStack .*native\.test\.ts/);
  });

  it('computes IoU bit-identical to the JS reference (also on the thread pool)', async () => {
    const r = rng(7);
    for (const [na, nb, snap] of [
      [0, 5, false],
      [7, 0, true],
      [1, 1, true],
      [40, 60, true],
      [300, 400, false],
    ] as const) {
      const A = randomBoxes(r, na, { snap }),
        B = randomBoxes(r, nb, { snap, clusters: 3 });
      const want = iouReference({ a: A, b: B });
      const got = new Float32Array(na * nb);
      await a.iou({ a: A, b: B, out: got });
      expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer)), `${na}x${nb}`).toBe(true);
      const viaOp = await boxIou(A, B, { backend: 'cpu' });
      expect(viaOp.backend).toBe('cpu');
      expect(Buffer.from(viaOp.iou.buffer).equals(Buffer.from(want.buffer))).toBe(true);
    }
  });

  it('NMS equals the reference on clustered, huge, degenerate and tied boxes', async () => {
    const r = rng(11);
    for (let t = 0; t < 24; t++) {
      const n = [50, 300, 2000, 3000][t % 4]!;
      const boxes = randomBoxes(r, n, {
        snap: t % 2 === 0,
        clusters: t % 3 === 0 ? 0 : 1 + Math.floor(r() * 40),
        huge: t % 5 === 0 ? 0.01 : 0,
      });
      const scores = Float32Array.from({ length: n }, () => (t % 4 === 1 ? Math.round(r() * 10) / 10 : r()));
      if (t % 6 === 0) scores.fill(0.5);
      const classes = t % 3 === 1 ? Int32Array.from({ length: n }, () => Math.floor(r() * 4)) : null;
      const iouThreshold = [0, 0.1, 0.45, 0.5, 0.7, 1][t % 6]!;
      const args = {
        boxes,
        scores,
        classes,
        iouThreshold,
        scoreThreshold: t % 4 === 3 ? 0.3 : -Infinity,
        maxCandidates: t % 7 === 0 ? n >> 1 : n,
        maxDetections: t % 5 === 4 ? 25 : n,
      };
      const got = await a.nms(args);
      expect(Array.from(got), `case ${t}`).toEqual(Array.from(nmsReference(args)));
    }
  });

  it('runs many calls at once (shared pool, no oversubscription deadlock) with correct results', async () => {
    const r = rng(5);
    const jobs: Promise<void>[] = [];
    for (let k = 0; k < 24; k++) {
      const A = randomBoxes(r, 200),
        B = randomBoxes(r, 500);
      const boxes = randomBoxes(r, 1500, { clusters: 20 });
      const scores = Float32Array.from({ length: 1500 }, () => r());
      jobs.push(
        (async () => {
          const out = new Float32Array(200 * 500);
          await a.iou({ a: A, b: B, out });
          expect(Buffer.from(out.buffer).equals(Buffer.from(iouReference({ a: A, b: B }).buffer))).toBe(true);
        })(),
        (async () => {
          const args = {
            boxes,
            scores,
            classes: null,
            iouThreshold: 0.45,
            scoreThreshold: -Infinity,
            maxCandidates: 1500,
            maxDetections: 1500,
          };
          expect(Array.from(await a.nms(args))).toEqual(Array.from(nmsReference(args)));
        })(),
      );
    }
    await Promise.all(jobs);
  });

  it('dispatches through the op with backend cpu and under auto for large inputs', async () => {
    const r = rng(9);
    const boxes = randomBoxes(r, 5000, { clusters: 50 });
    const scores = Float32Array.from({ length: 5000 }, () => r());
    const cpu = await nms(boxes, scores, { backend: 'cpu' });
    const auto = await nms(boxes, scores);
    const js = await nms(boxes, scores, { backend: 'js' });
    expect([cpu.backend, auto.backend, js.backend]).toEqual(['cpu', 'cpu', 'js']);
    expect(Array.from(cpu.indices)).toEqual(Array.from(js.indices));
    expect((await nms(boxes.subarray(0, 8), scores.subarray(0, 2))).backend).toBe('js'); // below minWork
  });
});
