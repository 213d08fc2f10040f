// Huge-page advice for large buffers that a kernel writes once (COCO evaluation's mask counts: tens of
// MB per call). A fresh buffer is faulted in on first write one 4 KiB page at a time, and on a VM each
// fault is costly: on the Firecracker dev machine the first write of 90 MB took 350 ms (~15 us a page)
// and 3-9 ms with MADV_HUGEPAGE (benchmarks/results/cocoEval.md). Linux with transparent huge pages in
// `madvise` (most distributions' default) or `always` mode; elsewhere, or when refused, nothing changes.
#pragma once

#include <cstddef>
#include <cstdint>

#if defined(__linux__)
#include <sys/mman.h>
#endif

namespace maskbox {

constexpr size_t kHugePage = size_t{2} << 20;

/**
 * Asks for huge pages on the 2 MiB-aligned interior of [p, p + bytes), before its first write; only
 * for 4 MiB and more (smaller buffers gain little). Pages already written keep their size. The result
 * is ignored: the advice changes speed, never contents.
 */
inline void AdviseHugePages(void* p, size_t bytes) {
#if defined(__linux__) && defined(MADV_HUGEPAGE)
  if (p == nullptr || bytes < 2 * kHugePage) return;
  const uintptr_t a = reinterpret_cast<uintptr_t>(p);
  const uintptr_t begin = (a + kHugePage - 1) & ~(kHugePage - 1), end = (a + bytes) & ~(kHugePage - 1);
  if (end > begin) madvise(reinterpret_cast<void*>(begin), end - begin, MADV_HUGEPAGE);
#else
  (void)p;
  (void)bytes;
#endif
}

}  // namespace maskbox
