/**
 * The batch commands' glibc malloc settings (src/cli/mallocTuning.ts, native/mallocTuning.cc): applied
 * once through the addon, never over the user's own settings, and the binding checks its arguments.
 */
import { describe, expect, it } from 'vitest';
import { loadNative } from '../bindings/native.js';
import { MMAP_THRESHOLD, TRIM_THRESHOLD, tuneMallocForBatches } from '../src/cli/mallocTuning.js';

const addon = loadNative();
const glibc = process.platform === 'linux' && Boolean(process.report?.getReport?.() && glibcVersion());
function glibcVersion(): string | undefined {
  const header = (process.report.getReport() as { header?: { glibcVersionRuntime?: string } }).header;
  return header?.glibcVersionRuntime;
}

describe('tuneMallocForBatches', () => {
  it('leaves the allocator alone when the user says so or set glibc variables', () => {
    expect(tuneMallocForBatches({ MASKBOX_MALLOC: 'default' })).toMatch(/^default \(MASKBOX_MALLOC=default\)/);
    expect(tuneMallocForBatches({ MALLOC_MMAP_THRESHOLD_: '1048576' })).toBe('from the environment');
    expect(tuneMallocForBatches({ MALLOC_TRIM_THRESHOLD_: '1' })).toBe('from the environment');
    expect(tuneMallocForBatches({ GLIBC_TUNABLES: 'glibc.malloc.hugetlb=1' })).toBe('from the environment');
  });

  it.skipIf(!addon)('applies mmap and trim thresholds through the addon (glibc) or says why not', () => {
    const r = tuneMallocForBatches({});
    if (glibc) expect(r).toBe('tuned (mmap threshold 32 MiB, trim threshold 512 MiB)');
    else expect(r).toMatch(/^default \(not glibc/);
  });

  it.skipIf(!addon)('the binding rejects out-of-range thresholds with a typed error naming the argument', () => {
    const a = addon!;
    expect(() => a.tuneMalloc({ mmapThreshold: MMAP_THRESHOLD + 1, trimThreshold: TRIM_THRESHOLD })).toThrow(
      /maskbox native tuneMalloc: .*mmapThreshold/,
    );
    expect(() => a.tuneMalloc({ mmapThreshold: 1024, trimThreshold: -1 })).toThrow(/trimThreshold/);
    expect(() => a.tuneMalloc({ mmapThreshold: 0.5, trimThreshold: 1 })).toThrow(/mmapThreshold/);
    expect(() => (a.tuneMalloc as (o: unknown) => unknown)(undefined)).toThrow(/maskbox native tuneMalloc/);
    expect(a.tuneMalloc({ mmapThreshold: MMAP_THRESHOLD, trimThreshold: TRIM_THRESHOLD }).applied).toBe(glibc);
  });
});
