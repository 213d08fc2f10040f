#!/usr/bin/env node
/**
 * Builds the native addon with cmake-js (Node-API headers come from the node-api-headers package,
 * because package.json has "binary": {"napi_versions": [8]}: nothing is downloaded).
 *
 *   node scripts/build-native.mjs              build/Release/maskbox.node (npm run build:native); fails loudly
 *   node scripts/build-native.mjs --install    what `npm install` runs: on failure prints one message and
 *                                              exits 0, so the JS backend still works (MASKBOX_SKIP_NATIVE_BUILD=1
 *                                              skips the build)
 *   node scripts/build-native.mjs --emu        also build/Release/maskbox-emu.node: the CUDA kernels on the CPU
 *                                              emulation (native/cuda/emu), which serves backend 'cuda' in tests
 *                                              without a GPU (on by default under CI or with MASKBOX_CUDA_EMU=1)
 *   node scripts/build-native.mjs --asan       AddressSanitizer + UBSan build in build/asan/Release (npm run build:native:asan)
 *   node scripts/build-native.mjs --asan --test [test files...]
 *                                              ...then runs vitest on those files (default: the native test
 *                                              suite, every test/*.test.ts whose static imports reach the addon
 *                                              loader bindings/native.ts, i.e. every test that can run the cpu
 *                                              backend) against it, with the sanitizer runtimes preloaded:
 *       LD_PRELOAD="$(c++ -print-file-name=libasan.so) $(c++ -print-file-name=libubsan.so)" \
 *       ASAN_OPTIONS=detect_leaks=0 MASKBOX_NATIVE_PATH=build/asan/Release/maskbox.node npx vitest run ...
 *
 * The full cmake/compiler output of an --install build goes to build/native-build.log.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const install = args.includes('--install');
const asan = args.includes('--asan');
const runTests = args.includes('--test');
const testFiles = args.filter((a) => !a.startsWith('--'));
const out = join(root, 'build', ...(asan ? ['asan'] : []));
const addon = join(out, 'Release', 'maskbox.node');
const log = join(root, 'build', 'native-build.log');
let logWritten = false;

function fail(reason) {
  if (install) {
    process.stderr.write(
      `maskbox: the native addon was not built (${reason}); maskbox will use its JavaScript kernels. ` +
        `Fix that, then run \`npm run build:native\`.${logWritten ? ` Build log: ${log}` : ''}\n`,
    );
    process.exit(0);
  }
  process.stderr.write(`maskbox: native build failed: ${reason}\n`);
  process.exit(1);
}

function has(cmd, argv = ['--version']) {
  const r = spawnSync(cmd, argv, { stdio: 'ignore' });
  return r.status === 0;
}

function run(cmd, argv, opts = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, argv, { cwd: root, ...opts });
    if (opts.logTo) {
      child.stdout.on('data', (d) => opts.logTo.push(d));
      child.stderr.on('data', (d) => opts.logTo.push(d));
    }
    child.on('error', (err) => resolve({ code: -1, error: err.message }));
    child.on('close', (code, signal) => resolve({ code: code ?? -1, signal }));
  });
}

const skip = process.env.MASKBOX_SKIP_NATIVE_BUILD;
if (install && skip && skip !== '0') {
  process.stderr.write(`maskbox: skipping the native build (MASKBOX_SKIP_NATIVE_BUILD=${skip}); the JavaScript kernels will be used\n`);
  process.exit(0);
}

// The usual causes first, in words, before cmake prints pages.
if (!has('cmake')) fail('cmake was not found on PATH: install cmake >= 3.19');
const cxx = process.env.CXX || (has('c++') ? 'c++' : has('g++') ? 'g++' : has('clang++') ? 'clang++' : null);
if (!cxx || !has(cxx)) fail('no C++ compiler was found (c++, g++ or clang++; or set CXX): install g++ or clang');

let cmakeJs;
try {
  cmakeJs = join(dirname(createRequire(import.meta.url).resolve('cmake-js/package.json')), 'bin', 'cmake-js');
} catch {
  fail('the cmake-js package is missing: run `npm install`');
}

mkdirSync(join(root, 'build'), { recursive: true });
// A configure step that failed leaves CMakeCache.txt without build files, and `cmake-js build` would
// then skip configuring: start that folder's configuration afresh.
if (existsSync(join(out, 'CMakeCache.txt')) && !existsSync(join(out, 'build.ninja')) && !existsSync(join(out, 'Makefile'))) {
  rmSync(join(out, 'CMakeCache.txt'));
}
const cmakeArgs = [cmakeJs, 'build', '--directory', root, '--out', out, '--parallel', String(Math.max(1, cpus().length))];
if (asan) cmakeArgs.push('--CDMASKBOX_SANITIZE=ON');
// maskbox-emu.node (the CUDA kernels on the CPU emulation, for the cuda backend's tests): under CI, with
// --emu, or with MASKBOX_CUDA_EMU=1.
const emu = !asan && (args.includes('--emu') || process.env.MASKBOX_CUDA_EMU === '1' || (process.env.CI ?? '') !== '');
cmakeArgs.push(`--CDMASKBOX_CUDA_EMU=${emu ? 'ON' : 'OFF'}`);
const started = Date.now();
let result;
if (install) {
  // Buffered, written after cmake-js exits (a failed build may clean the build folder).
  const chunks = [];
  result = await run(process.execPath, cmakeArgs, { logTo: chunks, stdio: ['ignore', 'pipe', 'pipe'] });
  mkdirSync(dirname(log), { recursive: true });
  writeFileSync(log, Buffer.concat(chunks));
  logWritten = true;
} else {
  result = await run(process.execPath, cmakeArgs, { stdio: 'inherit' });
}
if (result.code !== 0 || !existsSync(addon)) {
  fail(result.error ?? `cmake-js exited with ${result.signal ?? `code ${result.code}`}`);
}

// Load it once in a child process: a build that links but does not load is no build.
const sanitizerEnv = () => {
  const libs = ['libasan.so', 'libubsan.so'].map((l) => spawnSync(cxx, [`-print-file-name=${l}`], { encoding: 'utf8' }).stdout.trim());
  return { ...process.env, LD_PRELOAD: libs.join(' '), ASAN_OPTIONS: process.env.ASAN_OPTIONS ?? 'detect_leaks=0' };
};
const env = asan ? sanitizerEnv() : process.env;
const check = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(addon)}).info()))`], {
  encoding: 'utf8',
  env,
});
if (check.status !== 0) fail(`the built addon does not load: ${(check.stderr || '').trim().split('\n').slice(-3).join(' ')}`);
const info = JSON.parse(check.stdout);
process.stderr.write(
  `maskbox: built ${relative(root, addon)} in ${((Date.now() - started) / 1000).toFixed(1)} s ` +
    `(ops: ${info.ops.join(', ')}; ${info.compiler}${info.sanitize ? '; ASan+UBSan' : ''}${info.cuda ? '; CUDA' : ''})\n`,
);
if (emu) {
  const emuAddon = join(out, 'Release', 'maskbox-emu.node');
  const c = spawnSync(process.execPath, ['-e', `console.log(JSON.stringify(require(${JSON.stringify(emuAddon)}).cuda.ops))`], {
    encoding: 'utf8',
  });
  if (c.status !== 0) fail(`the emulated CUDA addon ${emuAddon} does not load: ${(c.stderr || '').trim().split('\n').slice(-3).join(' ')}`);
  process.stderr.write(`maskbox: built ${relative(root, emuAddon)} (CUDA kernels on the CPU emulation: ${JSON.parse(c.stdout).join(', ')})\n`);
}

/**
 * The native test suite: test files whose static import graph (relative `import ... from` and
 * `import()` of .ts sources) reaches bindings/native.ts, the loader of the addon.
 */
function nativeTestFiles() {
  const target = join(root, 'bindings', 'native.ts');
  const memo = new Map();
  const reaches = (file, stack = new Set()) => {
    if (file === target) return true;
    if (memo.has(file)) return memo.get(file);
    if (stack.has(file) || !existsSync(file)) return false;
    stack.add(file);
    const text = readFileSync(file, 'utf8');
    let found = false;
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)['"](\.{1,2}\/[^'"]+)['"]/g)) {
      const dep = resolve(dirname(file), m[1].replace(/\.js$/, '.ts'));
      if (reaches(dep, stack)) {
        found = true;
        break;
      }
    }
    stack.delete(file);
    memo.set(file, found);
    return found;
  };
  return readdirSync(join(root, 'test'))
    .filter((f) => f.endsWith('.test.ts'))
    .map((f) => join('test', f))
    .filter((f) => reaches(join(root, f)))
    .sort();
}

if (runTests) {
  const files = testFiles.length ? testFiles : nativeTestFiles();
  process.stderr.write(`maskbox: running ${files.length} test files against ${relative(root, addon)}: ${files.join(' ')}\n`);
  const vitest = join(dirname(createRequire(import.meta.url).resolve('vitest/package.json')), 'vitest.mjs');
  const r = await run(process.execPath, [vitest, 'run', ...files], {
    stdio: 'inherit',
    env: { ...env, MASKBOX_NATIVE_PATH: addon, MASKBOX_REQUIRE_NATIVE: '1' },
  });
  process.exit(r.code);
}
