/**
 * Loads the native addon (`build/Release/maskbox.node`, built by `npm run build:native` or by the
 * package's install script) and says exactly why when it cannot.
 *
 * - `MASKBOX_NO_NATIVE=1` disables it (the JS backend runs everything).
 * - `MASKBOX_NATIVE_PATH=/path/to/maskbox.node` loads another build (e.g. the ASan one in build/asan).
 *
 * The addon's functions each take one options object and return a Promise; outputs of known size
 * are allocated here in JS and passed in, others come back as new typed arrays (never external
 * buffers). The addon checks every length again and throws a TypeError/RangeError with
 * `code: 'ERR_MASKBOX_NATIVE_ARGUMENT'` naming the argument.
 */
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { NativeOpTable } from '../src/ops/nativeTable.js';
import { BackendUnavailableError } from '../src/errors.js';

/** Build facts reported by the addon's `info()`. */
export interface NativeInfo {
  version: string;
  napiVersion: number;
  /** Thread budget shared by all native ops (MASKBOX_THREADS or the core count). */
  threads: number;
  /** Whether CUDA kernels were compiled in. */
  cuda: boolean;
  /** Built with -fsanitize=address,undefined. */
  sanitize: boolean;
  compiler: string;
  /** Ops this build exports. */
  ops: string[];
}

/**
 * The addon's functions, derived from the op table (src/ops/nativeTable.ts `NativeOpTable`): each takes one
 * options object (validated again in C++) and returns a Promise. test/contract.test.ts checks that a
 * built addon exports every one of them.
 */
export type NativeAddon = {
  info(): NativeInfo;
  /** glibc mallopt(M_MMAP_THRESHOLD / M_TRIM_THRESHOLD), sync (native/mallocTuning.cc; src/cli/mallocTuning.ts). */
  tuneMalloc(o: { mmapThreshold: number; trimThreshold: number }): { applied: boolean; reason: string };
  /** The zlib symbol prefix the PNG decoder found in the process ('Cr_z_' or ''), or null: none (sync). */
  pngZlib?(): string | null;
  /** The CUDA functions of a build made with nvcc (bindings/cuda.ts types and checks them). */
  cuda?: unknown;
} & {
  [Op in keyof NativeOpTable]: (args: NativeOpTable[Op]['args']) => Promise<NativeOpTable[Op]['result']>;
};

export interface NativeStatus {
  available: boolean;
  /** The exact reason it is unavailable, or a one-line description of the loaded build. */
  reason: string;
  /** The file that was (or would have been) loaded. */
  path: string;
  info?: NativeInfo;
}

export const NOT_BUILT_REASON =
  'the native addon was not built: run `npm run build:native` (needs cmake and a C++17 compiler)';

/** The package root: the nearest folder above this file whose package.json is maskbox's. */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'maskbox') return dir;
      } catch {
        // unreadable package.json: keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) break;
    dir = up;
  }
  return resolve(dirname(fileURLToPath(import.meta.url)), '..');
}

/** Where the addon is looked for. */
export function nativePath(): string {
  const override = process.env.MASKBOX_NATIVE_PATH;
  return override ? resolve(override) : join(packageRoot(), 'build', 'Release', 'maskbox.node');
}

let cached: { addon: NativeAddon | null; status: NativeStatus } | undefined;

function load(): { addon: NativeAddon | null; status: NativeStatus } {
  const path = nativePath();
  const off = process.env.MASKBOX_NO_NATIVE;
  if (off !== undefined && off !== '' && off !== '0') {
    return { addon: null, status: { available: false, path, reason: `disabled by MASKBOX_NO_NATIVE=${off}` } };
  }
  if (!existsSync(path)) {
    const reason = process.env.MASKBOX_NATIVE_PATH
      ? `MASKBOX_NATIVE_PATH points to a missing file: ${path}`
      : NOT_BUILT_REASON;
    return { addon: null, status: { available: false, path, reason } };
  }
  let addon: NativeAddon;
  try {
    addon = createRequire(import.meta.url)(path) as NativeAddon;
  } catch (err) {
    // dlopen's own text: wrong architecture, missing libasan (ASan build without LD_PRELOAD), ...
    const text = err instanceof Error ? err.message : String(err);
    return {
      addon: null,
      status: { available: false, path, reason: `the native addon failed to load (${path}): ${text}` },
    };
  }
  let info: NativeInfo;
  try {
    info = addon.info();
  } catch (err) {
    return {
      addon: null,
      status: {
        available: false,
        path,
        reason: `the native addon at ${path} is not maskbox's (info() failed: ${String(err)})`,
      },
    };
  }
  const reason = `C++ N-API addon ${info.version} (${info.compiler}, ${info.threads} threads${info.sanitize ? ', ASan/UBSan' : ''}): ${path}`;
  return { addon, status: { available: true, path, reason, info } };
}

/** The addon, or null when it is not built / fails to load / is disabled (see `nativeStatus()`). Cached. */
export function loadNative(): NativeAddon | null {
  cached ??= load();
  return cached.addon;
}

/** The addon, or a BackendUnavailableError('cpu') with the loader's exact reason. */
export function requireNative(): NativeAddon {
  const addon = loadNative();
  if (!addon) throw new BackendUnavailableError('cpu', nativeStatus().reason);
  return addon;
}

/** Whether the addon loaded, and the exact reason when it did not. */
export function nativeStatus(): NativeStatus {
  cached ??= load();
  return cached.status;
}

/**
 * `true` when this build of the addon exports `op`, else the reason (a build older than the sources).
 * Kernels use it in `supports()` so a stale build fails with a clear message, not a TypeError.
 */
export function nativeHasOp(op: keyof NativeOpTable): true | string {
  const addon = loadNative();
  if (!addon) return nativeStatus().reason;
  if (typeof addon[op] !== 'function') {
    return `the native addon at ${nativeStatus().path} has no '${op}' kernel (built from older sources): run \`npm run build:native\``;
  }
  return true;
}
