// Run-list math shared by native/cpu/rleOverlap.cc and native/cuda/rleOverlap.cu: one merge walk for every
// backend (src/backends/js/rle.ts rleOverlap). Integer results: equal everywhere.
#pragma once

#include <cstddef>
#include <cstdint>

#include "iou_math.h"  // MB_HD

namespace maskbox::math {

/** Pixels covered by both run lists (start, length pairs; na, nb values; any values are memory-safe). */
MB_HD uint64_t RunsIntersection(const uint32_t* a, size_t na, const uint32_t* b, size_t nb) {
  size_t i = 0, j = 0;
  uint64_t inter = 0;
  while (i + 1 < na && j + 1 < nb) {
    const uint64_t as = a[i], ae = as + a[i + 1], bs = b[j], be = bs + b[j + 1];
    const uint64_t lo = as > bs ? as : bs, hi = ae < be ? ae : be;
    if (hi > lo) inter += hi - lo;
    if (ae <= be) i += 2;
    else j += 2;
  }
  return inter;
}

/** Pixels covered by a run list (sum of lengths). */
MB_HD uint64_t RunsArea(const uint32_t* r, size_t n) {
  uint64_t s = 0;
  for (size_t k = 1; k < n; k += 2) s += r[k];
  return s;
}

}  // namespace maskbox::math
