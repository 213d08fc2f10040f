#!/usr/bin/env node
/**
 * Compiles every native/cuda/*.cu with nvcc for sm_75 and sm_90 (`-Xptxas -v,-warn-spills`, the build's
 * flags), prints registers / shared memory / spills per kernel and architecture, and exits 1 when a
 * kernel spills registers or its static shared memory plus the dynamic shared memory its launcher may
 * request exceeds the 48 KiB a block gets without opting in. CI runs it (.ci/run); needs only nvcc.
 *
 *   node native/cuda/ptxas-check.mjs [--arch sm_75,sm_90] [--out build/ptxas]
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync } from 'node:fs';
import { cpus } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const argv = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = argv.indexOf(name);
  return i >= 0 && argv[i + 1] ? argv[i + 1] : dflt;
};
const archs = opt('--arch', 'sm_75,sm_90').split(',');
const out = join(root, opt('--out', 'build/ptxas'));
const SMEM_LIMIT = 48 * 1024;
/** Dynamic shared memory each kernel's launcher may request at most (bytes); others launch with 0. */
const DYNAMIC_SMEM = { NmsReduce: SMEM_LIMIT - 256 };

const nvcc = process.env.NVCC || 'nvcc';
if (spawnSync(nvcc, ['--version'], { stdio: 'ignore' }).status !== 0) {
  console.error(`ptxas-check: ${nvcc} not found on PATH`);
  process.exit(2);
}
mkdirSync(out, { recursive: true });
const sources = readdirSync(here).filter((f) => f.endsWith('.cu')).sort();

function compile(file) {
  const gencode = archs.flatMap((a) => ['-gencode', `arch=compute_${a.slice(3)},code=${a}`]);
  const args = ['-std=c++17', '-O3', '--fmad=false', '-Xcompiler=-ffp-contract=off', `-I${join(root, 'native')}`, ...gencode,
    '-Xptxas', '-v,-warn-spills', '-c', join(here, file), '-o', join(out, `${file}.o`)];
  return new Promise((resolve) => {
    const child = spawn(nvcc, args);
    let text = '';
    child.stdout.on('data', (d) => (text += d));
    child.stderr.on('data', (d) => (text += d));
    child.on('close', (code) => resolve({ file, code, text }));
  });
}

const started = Date.now();
const results = [];
const queue = [...sources];
await Promise.all(
  Array.from({ length: Math.max(1, Math.min(cpus().length, 4)) }, async () => {
    while (queue.length) results.push(await compile(queue.shift()));
  }),
);

const demangle = (names) => {
  const r = spawnSync('c++filt', { input: names.join('\n'), encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim().split('\n') : names;
};
const rows = [];
const problems = [];
for (const { file, code, text } of results.sort((a, b) => a.file.localeCompare(b.file))) {
  if (code !== 0) {
    problems.push(`${file}: nvcc failed (exit ${code})\n${text.trim()}`);
    continue;
  }
  let cur = null;
  for (const line of text.split('\n')) {
    let m = line.match(/Compiling entry function '([^']+)' for '(sm_\d+)'/);
    if (m) {
      cur = { file, mangled: m[1], arch: m[2], regs: 0, smem: 0, spillStores: 0, spillLoads: 0, stack: 0 };
      rows.push(cur);
      continue;
    }
    if (!cur) continue;
    m = line.match(/(\d+) bytes stack frame, (\d+) bytes spill stores, (\d+) bytes spill loads/);
    if (m) [cur.stack, cur.spillStores, cur.spillLoads] = [+m[1], +m[2], +m[3]];
    m = line.match(/Used (\d+) registers/);
    if (m) cur.regs = +m[1];
    m = line.match(/(\d+) bytes smem/);
    if (m) cur.smem = +m[1];
    if (/warning/i.test(line) && /spill/i.test(line)) problems.push(`${file}: ${line.trim()}`);
  }
}
const names = demangle(rows.map((r) => r.mangled));
rows.forEach((r, i) => (r.name = names[i].replaceAll('(anonymous namespace)::', '').replace(/\(.*$/, '').replace(/^.*::/, '')));
const pad = (s, n) => String(s).padEnd(n);
console.log(`${pad('kernel', 22)}${pad('file', 16)}${pad('arch', 7)}${pad('regs', 6)}${pad('smem', 8)}${pad('dyn.max', 9)}${pad('stack', 7)}spills`);
for (const r of rows) {
  const dyn = DYNAMIC_SMEM[r.name] ?? 0;
  console.log(`${pad(r.name, 22)}${pad(r.file, 16)}${pad(r.arch, 7)}${pad(r.regs, 6)}${pad(r.smem, 8)}${pad(dyn, 9)}${pad(r.stack, 7)}${r.spillStores}/${r.spillLoads}`);
  if (r.spillStores || r.spillLoads) problems.push(`${r.name} (${r.arch}) spills ${r.spillStores} bytes stored / ${r.spillLoads} loaded`);
  if (r.smem + dyn > SMEM_LIMIT) problems.push(`${r.name} (${r.arch}) needs ${r.smem} + ${dyn} bytes of shared memory > ${SMEM_LIMIT}`);
}
const secs = ((Date.now() - started) / 1000).toFixed(1);
if (rows.length === 0 && problems.length === 0) problems.push('no kernels found in the ptxas output');
if (problems.length) {
  console.error(`ptxas-check: FAILED (${secs} s)\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`ptxas-check: ${rows.length} kernel builds (${sources.length} files x ${archs.join(', ')}), no spills, shared memory within ${SMEM_LIMIT} bytes (${secs} s)`);
