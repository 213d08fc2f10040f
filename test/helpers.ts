/** Test helpers shared by every spec: locating ../shared, and running one spec on every backend. */
import { existsSync } from 'node:fs';
import { deflateSync } from 'node:zlib';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';
import { backendStatus, getKernel, type BackendName } from '../src/backends/registry.js';
import { ensureBackends } from '../src/backends/index.js';

export const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
/** Third-party fixtures and models; absent on machines without the shared folder. */
export const SHARED = process.env.MASKBOX_SHARED ?? resolve(REPO, '..', 'shared');
export const HAS_SHARED = existsSync(resolve(SHARED, 'DESIGN.md'));

/** `describe` that skips, with a one-line reason, when ../shared is absent. */
export function describeShared(name: string, fn: () => void): void {
  // The body is not even collected when skipped: describe bodies often read fixture files.
  if (HAS_SHARED) describe(name, fn);
  else describe(name, () => it.skip(`skipped: ${SHARED} not found`, () => {}));
}

/** Backends whose kernels this machine can run (js always; cpu when the addon is built). */
export function availableBackends(): BackendName[] {
  ensureBackends();
  return (['js', 'cpu', 'cuda', 'webgpu'] as const).filter((b) => backendStatus(b).available);
}

/**
 * Backends that must run here: `MASKBOX_REQUIRE_BACKENDS=cpu,webgpu` (set in CI) turns a skipped
 * backend into a failing test with the reason it is unavailable.
 */
export function requiredBackends(): BackendName[] {
  const list = (process.env.MASKBOX_REQUIRE_BACKENDS ?? '').split(',').map((s) => s.trim());
  return (['js', 'cpu', 'cuda', 'webgpu'] as const).filter((b) => list.includes(b));
}

/**
 * One spec, every backend (tfjs's describeWithFlags): runs `fn(backend)` once per backend that is
 * available, and reports the unavailable ones as skipped with their reason (as failed when
 * MASKBOX_REQUIRE_BACKENDS names them). test/setup.ts initialised the backends before this runs.
 */
export function describeEachBackend(name: string, fn: (backend: BackendName) => void): void {
  ensureBackends();
  const required = requiredBackends();
  for (const b of ['js', 'cpu', 'cuda', 'webgpu'] as const) {
    const st = backendStatus(b);
    if (st.available) describe(`${name} [${b}]`, () => fn(b));
    else if (required.includes(b))
      describe(`${name} [${b}]`, () =>
        it(`MASKBOX_REQUIRE_BACKENDS names ${b}`, () => {
          throw new Error(`backend ${b} is required here but unavailable: ${st.reason}`);
        }));
    else describe(`${name} [${b}]`, () => it.skip(`skipped: ${st.reason}`, () => {}));
  }
}

/** Deterministic PRNG (mulberry32) for reproducible random inputs. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * describeEachBackend restricted to backends that have a kernel for every op in `ops`; the others
 * show as skipped with the reason.
 */
export function describeEachKernel(ops: string | string[], name: string, fn: (backend: BackendName) => void): void {
  const list = typeof ops === 'string' ? [ops] : ops;
  describeEachBackend(name, (backend) => {
    const missing = list.filter((op) => !getKernel(op, backend));
    if (missing.length === 0) fn(backend);
    else it.skip(`(skipped: no ${backend} kernel for ${missing.map((m) => `'${m}'`).join(', ')} yet)`, () => {});
  });
}

const CRC_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});

/** One PNG chunk: length, type, data, CRC-32 of type + data. */
export function pngChunk(type: string, data: Uint8Array): Buffer {
  const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  let c = 0xffffffff;
  for (const x of td) c = CRC_TABLE[(c ^ x) & 0xff]! ^ (c >>> 8);
  const out = Buffer.alloc(td.length + 8);
  out.writeUInt32BE(data.length, 0);
  td.copy(out, 4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0, td.length + 4);
  return out;
}

/** A PNG whose header claims `w x h` pixels, with almost no pixel data (a "huge image" without the memory). */
export function pngHeaderOnly(w: number, h: number): Buffer {
  const chunk = pngChunk;
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const idat = chunk('IDAT', deflateSync(Buffer.alloc(64))); // decoders want one IDAT before they report the size
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    idat,
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
