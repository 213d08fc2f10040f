/**
 * glibc malloc settings for the batch commands (detect, baseline, segment): large per-frame buffers
 * (a 2048² frame decodes into ~12.6 MB) are served from the heap and the heap is not trimmed, so their
 * pages are reused instead of being mapped, faulted in and unmapped for every frame (docs/performance.md:
 * about a quarter less CPU per frame on the development VM). CLI only: the library never changes the
 * allocator of the process it is imported into. Users keep control: MASKBOX_MALLOC=default leaves glibc
 * as it is, and glibc's own variables (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_, GLIBC_TUNABLES
 * with glibc.malloc.*) win when set.
 */
import { loadNative } from '../../bindings/native.js';

/** Largest value glibc accepts for M_MMAP_THRESHOLD on 64-bit (HEAP_MAX_SIZE / 2). */
export const MMAP_THRESHOLD = 32 << 20;
/** Heap kept mapped after frees: a few frames' worth of buffers. */
export const TRIM_THRESHOLD = 512 << 20;

/** Applies the settings once per process; returns what happened, for the command's summary. */
export function tuneMallocForBatches(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MASKBOX_MALLOC === 'default') return 'default (MASKBOX_MALLOC=default)';
  if (env.MALLOC_MMAP_THRESHOLD_ || env.MALLOC_TRIM_THRESHOLD_ || /glibc\.malloc\./.test(env.GLIBC_TUNABLES ?? ''))
    return 'from the environment';
  const addon = loadNative();
  if (!addon) return 'default (no native addon)';
  const r = addon.tuneMalloc({ mmapThreshold: MMAP_THRESHOLD, trimThreshold: TRIM_THRESHOLD });
  return r.applied ? 'tuned (mmap threshold 32 MiB, trim threshold 512 MiB)' : `default (${r.reason})`;
}
