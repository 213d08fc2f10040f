/**
 * End-to-end `maskbox detect` on 2048x2048 frames (simulated CDV renderings, PNG and JPEG q~78), the
 * bundled model, the lab's CSV per image:
 *
 * 1. Stage costs: each stage of one frame run alone, one thread, one frame after another (sharp
 *    concurrency 1, MASKBOX_THREADS=1, onnxruntime 1 intra-op thread without spinning), as the
 *    process's CPU time (every thread): read, decode, preprocess (letterbox into the input tensor),
 *    infer, postprocess (NMS + boxes back to the frame), write (CSV, atomic). Medians over the frames.
 *    The ideal rate is cores / (the sum): every core busy, nothing lost to waiting or overhead.
 * 2. Measured: `maskbox detect DIR --json` in a fresh process per round (images/s over the batch, start-up
 *    excluded), the configurations alternated round by round (A B C A B C ...), medians with min/max.
 * Rows: the CLI's defaults (the bundled model picks its input size per frame: 1536x1536 for these 2048²
 * frames) with the native kernels (`--backend auto`) on PNG and JPEG, and without them (`js`) on PNG;
 * `--fast-decode` (decode straight to the model input size; JPEG shrink-on-load); PNG with glibc malloc
 * left at its defaults (`MASKBOX_MALLOC=default`: the CLI tunes it, src/cli/mallocTuning.ts); and the old
 * full-frame scale, `--input-size 640` (2.5x less inference), plain and with `--fast-decode`. The stage
 * costs run with the same malloc settings as the measured process.
 *
 * Run: node --import tsx benchmarks/pipeline.bench.ts [--frames 48] [--rounds 3] [--sizes 0,1024,640]
 * The runner's memory checks (fake model): benchmarks/runnerMemory.bench.ts.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { availableParallelism, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { main } from '../src/cli/index.js';
import { defaultInferenceThreads } from '../src/model/session.js';
import { alternate, fmtSpread, machine, methodLine, table } from './harness.js';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const FRAMES = arg('--frames', 48);
const ROUNDS = arg('--rounds', 3);
const DIR = join(tmpdir(), 'maskbox-bench-e2e');
const SELF = fileURLToPath(import.meta.url);
const FORMATS = ['png', 'jpg'] as const;
type Format = (typeof FORMATS)[number];

/** 8 simulated frames per format (seed 7), copied under distinct names up to `FRAMES`. */
async function prepare(format: Format): Promise<string> {
  const dir = join(DIR, `${format}${FRAMES}`);
  if (existsSync(dir) && readdirSync(dir).length === FRAMES) return dir;
  const sim = join(DIR, `sim-${format}`);
  if (!existsSync(join(sim, 'images'))) {
    const quiet = process.stdout.write;
    process.stdout.write = (() => true) as typeof process.stdout.write;
    try {
      await main(['simulate', 'cdv', '--n', '8', '--format', format, '--seed', '7', '--out', sim]);
    } finally {
      process.stdout.write = quiet;
    }
  }
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const src = readdirSync(join(sim, 'images')).sort();
  for (let k = 0; k < FRAMES; k++)
    copyFileSync(join(sim, 'images', src[k % src.length]!), join(dir, `f${String(k).padStart(3, '0')}.${format}`));
  return dir;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// ---- child: stage costs, one thread, frame after frame ----------------------------------------------
async function stageCosts(
  dir: string,
  backend: 'auto' | 'js',
  fast: boolean,
  inputSize: number | undefined,
): Promise<Record<string, number>> {
  const sharp = (await import('sharp')).default;
  const ort = await import('onnxruntime-node');
  const { readImageFile, readImage } = await import('../src/io/image.js');
  const { letterboxDecoder } = await import('../src/pipeline/decode.js');
  const { letterbox } = await import('../src/ops/letterbox.js');
  const { nonMaxSuppression } = await import('../src/ops/yoloNms.js');
  const { scaleBoxes } = await import('../src/ops/scaleBoxes.js');
  const { stretchedToImage } = await import('../src/model/postprocess.js');
  const { createSession } = await import('../src/model/session.js');
  const { defaultModelPath } = await import('../src/pipeline/defaultModel.js');
  const { formatDetectionsCsv } = await import('../src/io/detectionsCsv.js');
  const { writeFileAtomic } = await import('../src/io/files.js');
  await import('../src/index.js'); // registers the backends
  (await import('../src/cli/mallocTuning.js')).tuneMallocForBatches(); // as the CLI does (or not, by env)
  sharp.concurrency(1);
  sharp.cache(false);
  const { session } = await createSession(defaultModelPath(), { intraOpNumThreads: 1, spinning: false });
  // the side `detect` runs a 2048² frame at: --input-size, or the model's own rule (Detector.inputSizeFor)
  const { Detector } = await import('../src/model/detector.js');
  const probe = await Detector.load(defaultModelPath(), inputSize ? { inputSize } : {});
  const S = probe.inputSizeFor(2048, 2048)[0];
  await probe.dispose();
  const decodeFast = letterboxDecoder([S, S]);
  const out = join(DIR, 'stage-out');
  mkdirSync(out, { recursive: true });
  const files = readdirSync(dir).sort().slice(0, 8);
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  // The CLI reuses file and pixel buffers across frames (runBatch reuseBuffers); so do the stages here.
  let fileBuf: Buffer | undefined;
  let pixelBuf: Uint8Array | undefined;
  const readInto = (n: number) => {
    if (!fileBuf || fileBuf.length < n) fileBuf = Buffer.alloc(n);
    return fileBuf.subarray(0, n);
  };
  const pixelsInto = (n: number) => (pixelBuf?.length === n ? pixelBuf : (pixelBuf = new Uint8Array(n)));
  const costs: Record<string, number[]> = {};
  const stage = async <T>(name: string, f: () => Promise<T>, keep: boolean): Promise<T> => {
    const c = cpu();
    const r = await f();
    if (keep) (costs[name] ??= []).push(cpu() - c);
    return r;
  };
  for (let round = 0; round < 3; round++) {
    for (const f of files) {
      const keep = round > 0; // round 0 warms up
      const path = join(dir, f);
      const bytes = await stage('read', () => readImageFile(path, { into: readInto }), keep);
      const memory = { into: pixelsInto };
      const image = await stage(
        'decode',
        () =>
          fast
            ? decodeFast(bytes, { name: f, origin: path, read: async () => bytes }, memory)
            : readImage(bytes, memory),
        keep,
      );
      const lb = await stage(
        'preprocess',
        () => letterbox(image, { size: S, out: new Float32Array(3 * S * S), backend }),
        keep,
      );
      const res = await stage(
        'infer',
        () => session.run({ images: new ort.Tensor('float32', lb.data, [1, 3, S, S]) }),
        keep,
      );
      const t = res[session.outputNames[0]!]!;
      const det = await stage(
        'postprocess',
        async () => {
          const [d] = await nonMaxSuppression(t.data as Float32Array, t.dims as number[], {
            layout: 'yolov5',
            conf: 0.4,
            iou: 0.45,
            backend,
          });
          let boxes = (await scaleBoxes(d!.boxes, lb.params, { backend })).boxes;
          const src = image.source;
          if (src)
            boxes = stretchedToImage(boxes, src.width / image.width, src.height / image.height, src.width, src.height);
          return { boxes, scores: d!.scores };
        },
        keep,
      );
      const size = image.source ?? image;
      await stage(
        'write',
        () => writeFileAtomic(join(out, `${f}_result.csv`), formatDetectionsCsv(det.boxes, det.scores, size)),
        keep,
      );
    }
  }
  await session.release();
  return Object.fromEntries(Object.entries(costs).map(([k, v]) => [k, median(v)]));
}

// ---- child: one end-to-end run of the CLI --------------------------------------------------------------
async function e2e(args: string[]): Promise<void> {
  const lines: string[] = [];
  const write = process.stdout.write;
  process.stdout.write = ((s: string) => (lines.push(String(s)), true)) as typeof process.stdout.write;
  let code: number;
  try {
    code = await main(['detect', ...args, '--json', '--overwrite']);
  } finally {
    process.stdout.write = write;
  }
  if (code !== 0) throw new Error(`detect exited ${code}: ${lines.join('')}`);
  process.stdout.write(JSON.stringify(JSON.parse(lines.join(''))) + '\n');
}

function child(args: string[], env: Record<string, string> = {}): any {
  const r = spawnSync(process.execPath, [...process.execArgv, SELF, ...args], {
    encoding: 'utf8',
    env: { ...process.env, ...env },
    maxBuffer: 1 << 26,
  });
  if (r.status !== 0) throw new Error(`child ${args.join(' ')} failed: ${r.stderr}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

if (process.argv.includes('--stages-child')) {
  const [dir, backend, fast, size] = process.argv.slice(process.argv.indexOf('--stages-child') + 1);
  const costs = await stageCosts(dir!, backend as 'auto' | 'js', fast === 'fast', Number(size) || undefined);
  process.stdout.write(JSON.stringify(costs) + '\n');
  process.exit(0);
}
if (process.argv.includes('--e2e-child')) {
  await e2e(process.argv.slice(process.argv.indexOf('--e2e-child') + 1));
  process.exit(0);
}

// ---- parent ------------------------------------------------------------------------------------------
const cores = availableParallelism();
const load0 = loadavg()[0]!;
const STAGES = ['read', 'decode', 'preprocess', 'infer', 'postprocess', 'write'];
interface Config {
  format: Format;
  backend: 'auto' | 'js';
  fast: boolean;
  /** Extra environment: glibc malloc at its defaults, or libvips on one thread. */
  variant?: 'malloc default' | 'libvips 1 thread';
  /** `--input-size`; undefined: the model's own rule (the bundled model: 1536 for these frames). */
  inputSize?: number;
}
// Default flags first (the bundled model's per-frame input size), then the old 640 full-frame scale.
const configs: Config[] = [];
for (const format of FORMATS) configs.push({ format, backend: 'auto', fast: false });
configs.push({ format: 'png', backend: 'js', fast: false });
for (const format of FORMATS) configs.push({ format, backend: 'auto', fast: true });
configs.push({ format: 'png', backend: 'auto', fast: false, variant: 'malloc default' });
for (const format of FORMATS) configs.push({ format, backend: 'auto', fast: false, inputSize: 640 });
configs.push({ format: 'png', backend: 'auto', fast: true, inputSize: 640 });
// --sizes 0,1024,640: only PNG with the native kernels at these input sizes (0: the model's own rule), a short run
const SIZES = process.argv.includes('--sizes')
  ? process.argv[process.argv.indexOf('--sizes') + 1]!.split(',').map(Number)
  : null;
if (SIZES) {
  configs.length = 0;
  for (const size of SIZES)
    configs.push({ format: 'png', backend: 'auto', fast: false, ...(size ? { inputSize: size } : {}) });
}
const VARIANT_ENV = {
  'malloc default': { MASKBOX_MALLOC: 'default' },
  'libvips 1 thread': { VIPS_CONCURRENCY: '1' },
};
const envOf = (c: Config): Record<string, string> => (c.variant ? VARIANT_ENV[c.variant] : {});
const label = (c: Config) =>
  `${c.format.toUpperCase()}, ${c.backend === 'auto' ? 'native' : 'js'}${c.fast ? ', --fast-decode' : ''}${c.variant ? `, ${c.variant}` : ''}${c.inputSize ? `, --input-size ${c.inputSize}` : ''}`;

const dirs = { png: await prepare('png'), jpg: await prepare('jpg') };
const costs = new Map<Config, Record<string, number>>();
for (const c of configs)
  costs.set(
    c,
    child(['--stages-child', dirs[c.format], c.backend, c.fast ? 'fast' : 'full', String(c.inputSize ?? 0)], {
      MASKBOX_THREADS: '1',
      ...envOf(c),
    }),
  );

const stagesSeen = new Map<Config, Record<string, number>[]>();
const utilSeen = new Map<Config, number[]>();
const out = join(DIR, 'e2e-out');
// Each round is one fresh `detect` process timing itself: wall = ms per image (1000 / images/s), cpu = its
// CPU ms per image; the harness alternates the configurations and rotates their order round by round.
const measured = await alternate(
  configs.map((c) => ({
    name: label(c),
    threads: defaultInferenceThreads(cores),
    run: () => {
      const j = child(
        [
          '--e2e-child',
          dirs[c.format],
          '--out',
          out,
          '--backend',
          c.backend,
          ...(c.fast ? ['--fast-decode'] : []),
          ...(c.inputSize ? ['--input-size', String(c.inputSize)] : []),
        ],
        envOf(c),
      );
      if (j.images !== FRAMES) throw new Error(`${label(c)}: ${j.images} of ${FRAMES} images processed`);
      (stagesSeen.get(c) ?? stagesSeen.set(c, []).get(c)!).push(j.timings.stages);
      (utilSeen.get(c) ?? utilSeen.set(c, []).get(c)!).push(j.timings.utilisation);
      return { wall: j.timings.wall, cpu: j.timings.cpu };
    },
  })),
  ROUNDS,
  1,
);
const load1 = loadavg()[0]!;

const f1 = (v: number) => v.toFixed(1);
const costRows = configs.map((c) => {
  const s = costs.get(c)!;
  const sum = STAGES.reduce((a, k) => a + s[k]!, 0);
  return [label(c), ...STAGES.map((k) => f1(s[k]!)), f1(sum), f1((cores * 1000) / sum)];
});
const e2eRows = configs.map((c, i) => {
  const m = measured[i]!;
  const s = costs.get(c)!;
  const ideal = (cores * 1000) / STAGES.reduce((a, k) => a + s[k]!, 0);
  const rate = 1000 / m.wall.median;
  const st = (k: string) => f1(median(stagesSeen.get(c)!.map((x) => x[k] ?? 0)));
  return [
    label(c),
    `${rate.toFixed(1)} (${(1000 / m.wall.max).toFixed(1)}–${(1000 / m.wall.min).toFixed(1)})`,
    f1(ideal),
    (rate / ideal).toFixed(2),
    fmtSpread(m.cpu),
    `${Math.round(100 * median(utilSeen.get(c)!))}%`,
    STAGES.map(st).join(' / '),
  ];
});

console.log(
  `## End-to-end \`maskbox detect\`, ${FRAMES} frames 2048x2048 (8 simulated CDV frames, seed 7, repeated)\n`,
);
console.log(
  `${machine()}; load average ${load0.toFixed(1)} before, ${load1.toFixed(1)} after; bundled model ` +
    `(cdv-yolov6-tiny; default input size: the model's rule, 1536x1536 for these frames, or --input-size), ` +
    `default flags (onnxruntime threads ${defaultInferenceThreads(cores)}, no spinning; ` +
    `prefetch 2; batch 1); CSV per image\n`,
);
console.log('### Stage costs (CPU ms per frame, one thread, frame after frame; median of 16) and the ideal rate\n');
console.log(table(['input, kernels', ...STAGES, 'sum', `ideal img/s (${cores} cores / sum)`], costRows));
console.log(`\n### Measured: ${methodLine(ROUNDS)}; one round = one fresh \`detect\` process, start-up excluded\n`);
console.log(
  table(
    [
      'input, kernels',
      'images/s',
      'ideal',
      'measured / ideal',
      'CPU ms / image, median (min-max)',
      'cores busy',
      'wall ms per stage (read / decode / pre / infer / post / write, overlapped)',
    ],
    e2eRows,
  ),
);
