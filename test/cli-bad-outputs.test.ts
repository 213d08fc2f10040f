/**
 * Every CLI command, walked through the same list of bad outputs: an input given as the output (same
 * spelling, absolute, a `../` spelling, a symlink, a hard link), an unwritable folder, a directory where
 * a file goes (and a file where a folder goes), a parent that cannot be created (/proc/nope), and a pipe
 * closed early. Each must exit non-zero, print no stack trace, and leave every input byte-identical.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  linkSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli, STACK_LINE } from './cliRun.js';
import { REPO } from './helpers.js';

const FIX = join(REPO, 'test/fixtures/models');
const STACK = STACK_LINE;

/** Hash of every file under a folder (the inputs), by relative path. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}

const SUB = ['image_name,class,rle', 'a.png,c1,1 3', 'a.png,c2,'].join('\n') + '\n';

/** A command under test: how to build its inputs in `in/`, its argv for an output, and what --out must be. */
interface Case {
  name: string;
  setup(inDir: string): void;
  /** The input files (relative to in/) that an output may try to overwrite. */
  victims: string[];
  args(inDir: string, out: string): string[];
  /** Whether --out names a file or a folder. */
  kind: 'file' | 'dir';
  /** Extension for an output file of this command (used for links and unwritable paths). */
  ext: string;
}

const png = (d: string, name: string, src = 'square.png') => copyFileSync(join(FIX, src), join(d, name));

const CASES: Case[] = [
  {
    name: 'detect (combined CSV)',
    setup: (d) => png(d, 'a.png'),
    victims: ['a.png'],
    args: (d, out) => ['detect', join(d, 'a.png'), '--model', join(FIX, 'tiny_yolov6.onnx'), '--out', out],
    kind: 'file',
    ext: '.csv',
  },
  {
    name: 'detect (per-image folder)',
    setup: (d) => png(d, 'a.png'),
    victims: ['a.png'],
    args: (d, out) => ['detect', join(d, 'a.png'), '--model', join(FIX, 'tiny_yolov6.onnx'), '--out', out],
    kind: 'dir',
    ext: '',
  },
  {
    name: 'baseline (COCO)',
    setup: (d) => png(d, 'a.png'),
    victims: ['a.png'],
    args: (d, out) => ['baseline', join(d, 'a.png'), '--out', out],
    kind: 'file',
    ext: '.json',
  },
  {
    name: 'segment',
    setup: (d) => png(d, 's.png', 'seg.png'),
    victims: ['s.png'],
    args: (d, out) => ['segment', join(d, 's.png'), '--model', join(FIX, 'tiny_seg_fold0.onnx'), '--out', out],
    kind: 'file',
    ext: '.csv',
  },
  {
    name: 'ensemble',
    setup: (d) => ['a.csv', 'b.csv', 'c.csv'].forEach((f) => writeFileSync(join(d, f), SUB)),
    victims: ['a.csv'],
    args: (d, out) => [
      'ensemble',
      join(d, 'a.csv'),
      join(d, 'b.csv'),
      join(d, 'c.csv'),
      '--out',
      out,
      '--height',
      '4',
      '--width',
      '4',
    ],
    kind: 'file',
    ext: '.csv',
  },
  {
    name: 'rle decode',
    setup: (d) => writeFileSync(join(d, 'x.csv'), SUB),
    victims: ['x.csv'],
    args: (d, out) => [
      'rle',
      'decode',
      '--csv',
      join(d, 'x.csv'),
      '--class',
      'c1',
      '--height',
      '4',
      '--width',
      '4',
      '--out',
      out,
    ],
    kind: 'file',
    ext: '.png',
  },
  {
    name: 'merge',
    setup: (d) => {
      const header = 'image,x_center,y_center,width,height,confidence,area\n';
      for (const k of [0, 1]) {
        writeFileSync(join(d, `p${k}.csv`), header + `img${k}.png,5,5,2,2,0.5,4\n`);
        const info = { shard: k, of: 2, first: k, count: 1, total: 2 };
        writeFileSync(join(d, `p${k}.csv.shard.json`), JSON.stringify(info) + '\n');
      }
    },
    victims: ['p0.csv'],
    args: (d, out) => ['merge', join(d, 'p0.csv'), join(d, 'p1.csv'), '--out', out],
    kind: 'file',
    ext: '.csv',
  },
  {
    name: 'simulate',
    setup: (d) => writeFileSync(join(d, 'keep.txt'), 'user data'),
    victims: ['keep.txt'],
    args: (_d, out) => ['simulate', 'cdv', '--n', '1', '--size', '64', '--out', out],
    kind: 'dir',
    ext: '',
  },
];

/** The bad outputs, as functions of the case's folder: each returns the --out value (or null: not applicable). */
const BAD: [string, (c: Case, root: string, inDir: string) => string | null][] = [
  ['an input, same spelling', (c, _r, d) => join(d, c.victims[0]!)],
  [
    'an input, relative spelling with ../',
    (c, r, d) => relative(process.cwd(), join(r, 'other', '..', relative(r, d), c.victims[0]!)),
  ],
  [
    'a symlink to an input',
    (c, r, d) => {
      const l = join(r, `link${c.ext}`);
      symlinkSync(join(d, c.victims[0]!), l);
      return l;
    },
  ],
  [
    'a hard link to an input',
    (c, r, d) => {
      const l = join(r, `hard${c.ext}`);
      linkSync(join(d, c.victims[0]!), l);
      return l;
    },
  ],
  ['an unwritable folder', (c) => (c.kind === 'file' ? `/sys/fs/maskbox-out/x${c.ext}` : '/sys/fs/maskbox-out')],
  [
    'a directory where a file goes (or a file where a folder goes)',
    (c, r) => {
      if (c.kind === 'file') {
        mkdirSync(join(r, `isdir${c.ext}`));
        return join(r, `isdir${c.ext}`);
      }
      writeFileSync(join(r, 'isfile'), 'a file');
      return join(r, 'isfile');
    },
  ],
  ['a file under a file (ENOTDIR)', (c, _r, d) => join(d, c.victims[0]!, `x${c.ext}`)],
  ['a parent that cannot be created (/proc/nope)', (c) => `/proc/nope/x${c.ext}`],
];

describe('every command refuses bad outputs before any work, leaves inputs intact, prints no stack trace', () => {
  for (const c of CASES) {
    it(`${c.name}: a good --out works (the control: the bad cases below fail for their output alone)`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'maskbox-badout-'));
      const inDir = join(root, 'in');
      mkdirSync(inDir);
      c.setup(inDir);
      const r = await cli(c.args(inDir, join(root, `good${c.ext}`)));
      expect(r.code, r.stderr).toBe(0);
    }, 60_000);
    for (const [what, make] of BAD) {
      it(`${c.name}: --out is ${what}`, async () => {
        const root = mkdtempSync(join(tmpdir(), 'maskbox-badout-'));
        const inDir = join(root, 'in');
        mkdirSync(inDir);
        mkdirSync(join(root, 'other'));
        c.setup(inDir);
        const before = snapshot(inDir);
        const out = make(c, root, inDir);
        if (out === null) return;
        const r = await cli(c.args(inDir, out));
        expect(r.code, r.stderr).not.toBe(0);
        expect(r.stderr).toMatch(/^maskbox: /);
        expect(r.stderr).not.toMatch(STACK);
        expect(snapshot(inDir)).toEqual(before);
        expect(existsSync('/proc/nope')).toBe(false);
      }, 60_000);
    }
  }

  it('detect --coco-gt: the ground truth is never the output', async () => {
    const root = mkdtempSync(join(tmpdir(), 'maskbox-badout-'));
    png(root, 'a.png');
    const gt = join(root, 'gt.json');
    writeFileSync(gt, JSON.stringify({ images: [{ id: 7, file_name: 'a.png' }], categories: [{ id: 1, name: 'x' }] }));
    const before = readFileSync(gt, 'utf8');
    const r = await cli(['baseline', join(root, 'a.png'), '--out', gt, '--coco-gt', gt]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/refusing to overwrite an input/);
    expect(readFileSync(gt, 'utf8')).toBe(before);
  });

  it('an existing output the run did not create needs --overwrite', async () => {
    const root = mkdtempSync(join(tmpdir(), 'maskbox-badout-'));
    ['a.csv', 'b.csv', 'c.csv'].forEach((f) => writeFileSync(join(root, f), SUB));
    writeFileSync(join(root, 'v.csv'), 'precious');
    const args = ['ensemble', ...['a', 'b', 'c'].map((f) => join(root, `${f}.csv`)), '--out', join(root, 'v.csv')];
    const r = await cli([...args, '--height', '4', '--width', '4']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/v\.csv already exists .*--overwrite/);
    expect(readFileSync(join(root, 'v.csv'), 'utf8')).toBe('precious');
    expect((await cli([...args, '--height', '4', '--width', '4', '--overwrite'])).code).toBe(0);
    expect(readFileSync(join(root, 'v.csv'), 'utf8')).toBe(SUB);
    expect(readdirSync(root).sort()).toEqual(['a.csv', 'b.csv', 'c.csv', 'v.csv']); // no temporary left
  });

  it('a failing write leaves the previous output in place (temporary file + rename)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'maskbox-badout-'));
    writeFileSync(join(root, 'a.csv'), SUB);
    writeFileSync(join(root, 'b.csv'), SUB);
    writeFileSync(join(root, 'c.csv'), SUB.replace('a.png,c2,', 'a.png,c9,')); // c9 missing in a, b: fails midway
    writeFileSync(join(root, 'v.csv'), 'good old result');
    const args = ['ensemble', ...['a', 'b', 'c'].map((f) => join(root, `${f}.csv`)), '--out', join(root, 'v.csv')];
    const r = await cli([...args, '--height', '4', '--width', '4', '--overwrite']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).not.toMatch(STACK);
    expect(readFileSync(join(root, 'v.csv'), 'utf8')).toBe('good old result');
    expect(readdirSync(root).sort()).toEqual(['a.csv', 'b.csv', 'c.csv', 'v.csv']);
  });
});

/** Run the real CLI with its stdout closed before it writes anything. */
function runWithClosedStdout(args: string[]): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(REPO, 'bin/maskbox.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, MASKBOX_BACKEND: '' },
    });
    child.stdout.destroy(); // the reader goes away at once, like `| head -0`
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += String(d)));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

describe('a pipe closed early', () => {
  const root = mkdtempSync(join(tmpdir(), 'maskbox-epipe-'));
  writeFileSync(join(root, 'a.csv'), SUB);
  writeFileSync(join(root, 'p.csv'), 'x,y\n' + Array.from({ length: 20000 }, (_, i) => `${i},${i % 7}`).join('\n'));
  const runs: [string, string[]][] = [
    ['doctor', ['doctor']],
    [
      'eval dice',
      ['eval', 'dice', '--pred', join(root, 'a.csv'), '--truth', join(root, 'a.csv'), '--height', '4', '--width', '4'],
    ],
    ['dbscan', ['dbscan', '--points', join(root, 'p.csv'), '--eps', '1', '--min-samples', '2']],
    ['rle encode', ['rle', 'encode', '--mask', join(FIX, 'square.png')]],
    ['baseline --json', ['baseline', join(FIX, 'square.png'), '--out', join(root, 'res'), '--json']],
  ];
  for (const [name, args] of runs) {
    it(`${name}: exits quietly with a non-zero status`, async () => {
      const before = statSync(join(root, 'a.csv')).mtimeMs;
      const r = await runWithClosedStdout(args);
      expect(r.code).not.toBe(0);
      expect(r.stderr).not.toMatch(STACK);
      expect(r.stderr).not.toMatch(/EPIPE|Unhandled/);
      expect(statSync(join(root, 'a.csv')).mtimeMs).toBe(before);
    }, 60_000);
  }
});
