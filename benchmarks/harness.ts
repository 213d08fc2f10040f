/**
 * Shared benchmark helpers: implementations alternated round by round with wall and CPU time
 * (`alternate`), Python peers kept in one process so their rounds alternate with ours (`PythonPeer`),
 * the machine and its load, markdown tables.
 */
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

export interface Timing {
  median: number;
  min: number;
  runs: number;
}

/** Run `fn` `warmup` times, then `repeats` times; returns the median and min wall time in ms (one implementation alone: prefer `alternate`). */
export async function timeit(fn: () => unknown, repeats = 7, warmup = 1): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await fn();
  const t: number[] = [];
  for (let i = 0; i < repeats; i++) {
    const s = process.hrtime.bigint();
    await fn();
    t.push(Number(process.hrtime.bigint() - s) / 1e6);
  }
  t.sort((a, b) => a - b);
  return { median: t[Math.floor(t.length / 2)]!, min: t[0]!, runs: repeats };
}

export function machine(): string {
  const c = cpus();
  return `${c[0]?.model ?? 'unknown CPU'}, ${c.length} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

export function table(header: string[], rows: (string | number)[][]): string {
  const fmt = (v: string | number) =>
    typeof v === 'number' ? (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(3)) : v;
  return [
    `| ${header.join(' | ')} |`,
    `|${header.map(() => '---').join('|')}|`,
    ...rows.map((r) => `| ${r.map(fmt).join(' | ')} |`),
  ].join('\n');
}

/** YOLO-like candidate boxes: clusters of ~30 jittered boxes around objects in a 2048² frame, random scores (seeded LCG). */
export function yoloLikeBoxes(n: number, seed = 1): { boxes: Float32Array; scores: Float32Array } {
  let s = seed;
  const r = () => ((s = (s * 1103515245 + 12345) >>> 0), s / 4294967296);
  const objects = Math.max(1, Math.round(n / 30));
  const centers = Array.from({ length: objects }, () => [r() * 2048, r() * 2048, 20 + r() * 60, 20 + r() * 60]);
  const boxes = new Float32Array(n * 4),
    scores = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const [cx, cy, w, h] = centers[i % objects]!;
    const x = cx! + (r() - 0.5) * w! * 0.4,
      y = cy! + (r() - 0.5) * h! * 0.4;
    const ww = w! * (0.8 + r() * 0.4),
      hh = h! * (0.8 + r() * 0.4);
    boxes.set([x - ww / 2, y - hh / 2, x + ww / 2, y + hh / 2], i * 4);
    scores[i] = r();
  }
  return { boxes, scores };
}

/** Wall and process CPU time of repeated rounds, with medians and extremes. */
export interface Measured {
  name: string;
  /** Threads this implementation may use (stated per side; equal by default). */
  threads: number;
  wall: Spread;
  /** Process CPU time (user + system, every thread of the process that ran it), ms. */
  cpu: Spread;
  rounds: number;
}
export interface Spread {
  median: number;
  min: number;
  max: number;
}

export function spread(v: number[]): Spread {
  const s = [...v].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, min: s[0]!, max: s[s.length - 1]! };
}

/** One side of a comparison: `run` does one timed round and returns wall and CPU ms (when measured elsewhere) or nothing. */
export interface Impl {
  name: string;
  threads: number;
  /** One round; may return its own {wall, cpu} (a subprocess peer measures itself). */
  run: () => unknown;
}

/** `fn` as a round whose wall and CPU time are taken in this process (process.cpuUsage counts all its threads). */
export async function measureRound(fn: () => unknown): Promise<{ wall: number; cpu: number; value: unknown }> {
  const c0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const value = await fn();
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(c0);
  return { wall, cpu: (c.user + c.system) / 1e3, value };
}

/**
 * A full V8 collection (through --expose-gc set at run time), so that rounds do not pay for each other's
 * garbage. MASKBOX_BENCH_NO_GC=1 turns it off (a full GC returns pages, and the next round's first
 * allocations then fault them back in: small ops pay ~0.5 ms for that on this VM).
 */
const NO_GC = process.env.MASKBOX_BENCH_NO_GC === '1';
const collectGarbage: () => void = (() => {
  setFlagsFromString('--expose-gc');
  return runInNewContext('gc') as () => void;
})();

const isSelfTimed = (v: unknown): v is { wall: number; cpu: number } =>
  typeof v === 'object' && v !== null && typeof (v as { wall?: unknown }).wall === 'number' && 'cpu' in v;

/**
 * Runs the implementations alternately, round by round (A B A B ...; the order rotates each round so
 * no side always follows the same one), after `warmup` untimed rounds each, with a full garbage
 * collection before every round (untimed). Medians with min/max of
 * wall and CPU time. A round that returns {wall, cpu} (a subprocess peer timing itself) is taken as is.
 */
export async function alternate(impls: Impl[], rounds = 9, warmup = 1): Promise<Measured[]> {
  for (let w = 0; w < warmup; w++) for (const im of impls) await im.run();
  const wall = impls.map(() => [] as number[]),
    cpu = impls.map(() => [] as number[]);
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < impls.length; k++) {
      const i = (k + r) % impls.length;
      if (!NO_GC) collectGarbage(); // untimed: no round pays for the garbage of the one before
      const m = await measureRound(impls[i]!.run);
      const self = isSelfTimed(m.value) ? m.value : null;
      wall[i]!.push(self ? self.wall : m.wall);
      cpu[i]!.push(self ? self.cpu : m.cpu);
    }
  }
  return impls.map((im, i) => ({
    name: im.name,
    threads: im.threads,
    wall: spread(wall[i]!),
    cpu: spread(cpu[i]!),
    rounds,
  }));
}

/** "median (min-max)" in ms. */
export const fmtSpread = (s: Spread): string => `${fmt(s.median)} (${fmt(s.min)}-${fmt(s.max)})`;
const fmt = (v: number) => (v >= 100 ? v.toFixed(0) : v >= 1 ? v.toFixed(2) : v.toPrecision(3));

/** The machine's 1-minute load average, for the start/end of a run. */
export const load1 = (): string => loadavg()[0]!.toFixed(2);

/** The header line every benchmark prints: machine, method, load at start (end: call `loadLine` again). */
export function methodLine(rounds: number): string {
  return (
    `${machine()}; implementations alternated round by round (A B A B), ${rounds} rounds each after a warm-up, ` +
    `median (min-max); CPU = process CPU time of every thread (process.cpuUsage; subprocess peers: their own process time)`
  );
}

/**
 * A child process answering one line per command (`ask`), kept alive for a whole run so that its
 * rounds alternate with ours. Commands that time themselves answer "<wall ms> <cpu ms>".
 */
export class LinePeer {
  private child: ChildProcessWithoutNullStreams;
  private buf = '';
  private waiting: ((line: string) => void)[] = [];
  constructor(cmd: string, args: string[]) {
    this.child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout.setEncoding('utf8');
    this.child.stdout.on('data', (d: string) => {
      this.buf += d;
      let nl: number;
      while ((nl = this.buf.indexOf('\n')) >= 0) {
        const line = this.buf.slice(0, nl);
        this.buf = this.buf.slice(nl + 1);
        this.waiting.shift()?.(line);
      }
    });
    let err = '';
    this.child.stderr.on('data', (d) => (err += String(d)));
    this.child.on('exit', (code) => {
      for (const w of this.waiting.splice(0)) w(`error: ${cmd} exited with ${code}: ${err.trim().slice(-800)}`);
    });
  }
  ask(cmd: string): Promise<string> {
    return new Promise((resolve, reject) => {
      this.waiting.push((line) => (line.startsWith('error:') ? reject(new Error(line)) : resolve(line)));
      this.child.stdin.write(cmd + '\n');
    });
  }
  /** A command that answers "<wall ms> <cpu ms>". */
  async timed(cmd: string): Promise<{ wall: number; cpu: number }> {
    const [wall, cpu] = (await this.ask(cmd)).split(' ').map(Number);
    return { wall: wall!, cpu: cpu! };
  }
  close(): void {
    this.child.stdin.end();
  }
}

/**
 * A Python peer (Debian's /usr/bin/python3) in one process: `setup` runs once (its globals stay), then
 * each `round()` runs `body` and is timed inside Python: wall (perf_counter) and the process's CPU time
 * (time.process_time: all its threads). `dump(path)` writes the last round's value (`result`, a
 * Python expression giving a numpy array) as raw bytes, for checking outputs.
 */
export class PythonPeer extends LinePeer {
  /** `before`: statements run before each round, untimed (e.g. a fresh copy of an input the body writes into; `global` names it). */
  constructor(setup: string, body: string, result = 'None', before = 'pass') {
    const indent = (t: string) =>
      t
        .split('\n')
        .map((l) => '    ' + l)
        .join('\n');
    super('/usr/bin/python3', [
      '-u',
      '-c',
      `import sys, time
${setup}
def __before():
${indent(before)}
def __round():
${indent(body)}
    return ${result}
__last = None
for __line in sys.stdin:
    __cmd = __line.strip()
    if __cmd == 'round':
        __before()
        __w = time.perf_counter(); __c = time.process_time()
        __last = __round()
        print('%r %r' % ((time.perf_counter() - __w) * 1000, (time.process_time() - __c) * 1000), flush=True)
    elif __cmd.startswith('dump '):
        import numpy as __np
        __np.ascontiguousarray(__last).tofile(__cmd[5:]); print('ok', flush=True)
    elif __cmd.startswith('eval '):
        try: print(repr(eval(__cmd[5:])), flush=True)
        except Exception as __e: print('error: %r' % (__e,), flush=True)
`,
    ]);
  }
  round(): Promise<{ wall: number; cpu: number }> {
    return this.timed('round');
  }
  async dump(path: string): Promise<void> {
    await this.ask(`dump ${path}`);
  }
  eval(expr: string): Promise<string> {
    return this.ask(`eval ${expr}`);
  }
}

/**
 * The memory floor: benchmarks/peers/readFloor.c compiled here with `cc -O2` (plain C, not a maskbox
 * op), reading `bytes` copied to /dev/shm on `threads` threads: `sum` (read every byte once, as 64-bit
 * words) and `copy` (memcpy) rounds, timed inside the C process. Null (with the reason) without a C compiler.
 */
export function cFloor(bytes: Uint8Array, threads: number): { peer: LinePeer; done: () => void } | { error: string } {
  const dir = mkdtempSync(join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'maskbox-floor-'));
  const exe = join(dir, 'readFloor'),
    data = join(dir, 'data.bin');
  const src = join(dirname(fileURLToPath(import.meta.url)), 'peers', 'readFloor.c');
  const cc = spawnSync(process.env.CC || 'cc', ['-O2', '-pthread', '-o', exe, src], { encoding: 'utf8' });
  if (cc.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    return { error: `cc -O2 failed: ${(cc.stderr || cc.error?.message || '').trim().slice(-300)}` };
  }
  writeFileSync(data, bytes);
  const peer = new LinePeer(exe, [data, String(threads)]);
  return {
    peer,
    done: () => {
      peer.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True when Debian's python3 can import every module named. */
export function pythonHas(...modules: string[]): boolean {
  const r = spawnSync('/usr/bin/python3', ['-c', modules.map((m) => `import ${m}`).join('; ')], { stdio: 'ignore' });
  return r.status === 0;
}

/** A typed copy of a binary file (readFileSync's Buffer may sit inside a larger pooled ArrayBuffer). */
export function readTyped<T>(path: string, Ctor: { new (b: ArrayBuffer): T }): T {
  const b = readFileSync(path);
  return new Ctor(b.buffer.slice(b.byteOffset, b.byteOffset + b.length) as ArrayBuffer);
}

/**
 * Table rows of one alternated comparison on one input (`what`): each side's threads, wall and CPU
 * spreads, the peer's medians over this side's (the peer is the side named `peerName`; none: no ratios),
 * and the checks made before timing on the first row.
 */
export function comparisonRows(
  what: string,
  measured: Measured[],
  peerName: string | null,
  checks: string[],
): (string | number)[][] {
  const peer = measured.find((m) => m.name === peerName);
  const ratio = (a: Spread, b: Spread) => `${(a.median / b.median).toFixed(a.median >= 10 * b.median ? 0 : 1)}x`;
  return measured.map((m, k) => [
    what,
    m.name,
    String(m.threads),
    fmtSpread(m.wall),
    fmtSpread(m.cpu),
    peer && m !== peer ? ratio(peer.wall, m.wall) : '-',
    peer && m !== peer ? ratio(peer.cpu, m.cpu) : '-',
    k === 0 ? checks.join('; ') || '-' : '',
  ]);
}

/** The header of `comparisonRows`' tables; `peer` names the side the ratios are taken against. */
const comparisonHeader = (first: string, peer: string): string[] => [
  first,
  'implementation',
  'threads',
  'wall ms, median (min-max)',
  'CPU ms, median (min-max)',
  `wall: ${peer} / this`,
  `CPU: ${peer} / this`,
  'outputs checked in this run',
];

/** What `benchStart` read from the command line, and the load average when it did. */
export interface BenchStart {
  rounds: number;
  /** False with --no-python or when /usr/bin/python3 lacks a module the peers need. */
  python: boolean;
  flag: (name: string) => boolean;
  loadStart: string;
}

/**
 * The start of an alternated benchmark: `--rounds N` (default `defaultRounds`), `--no-python`, and the
 * boolean `flags` named; records the 1-minute load average for `printComparison`.
 */
export function benchStart(defaultRounds: number, pythonModules: string[], flags: string[] = []): BenchStart {
  const { values } = parseArgs({
    options: {
      rounds: { type: 'string' },
      'no-python': { type: 'boolean' },
      ...Object.fromEntries(flags.map((f) => [f, { type: 'boolean' as const }])),
    },
  });
  const loadStart = load1();
  return {
    rounds: Number(values.rounds ?? defaultRounds),
    python: !values['no-python'] && pythonHas(...pythonModules),
    flag: (name) => (values as Record<string, unknown>)[name] === true,
    loadStart,
  };
}

/** Prints a benchmark's title, the method with the load at the start and now, the table of `comparisonRows`, and notes. */
export function printComparison(
  title: string,
  start: BenchStart,
  columns: { first: string; peer: string },
  rows: (string | number)[][],
  notes: string[],
): void {
  console.log(`${title}\n`);
  console.log(
    `${methodLine(start.rounds)}. Load average (1 min): ${start.loadStart} at the start, ${load1()} at the end.\n`,
  );
  console.log(table(comparisonHeader(columns.first, columns.peer), rows));
  if (notes.length) console.log('\n' + notes.map((n) => `- ${n}`).join('\n'));
}
