// The float32 IoU every box kernel shares (DESIGN "Kernel contracts": torchvision's CPU arithmetic).
// Each step is one float32 operation, so with -ffp-contract=off (no FMA fusion) the result is
// bit-identical to src/backends/js/iou.ts (Math.fround after every step).
#pragma once

#include <cstddef>
#include <cstdint>

#include "cuda/iou_math.h"  // the formula itself, shared with the CUDA kernels

namespace maskbox::cpu {

/** IoU of boxes a and b (x1,y1,x2,y2), area (x2-x1)*(y2-y1), 0 when the union is 0. */
inline float IouF32(const float* a, const float* b) {
  return math::IouF32(a[0], a[1], a[2], a[3], math::BoxArea(a[0], a[1], a[2], a[3]), b[0], b[1], b[2], b[3],
                      math::BoxArea(b[0], b[1], b[2], b[3]));
}

/** Same, with box a's area precomputed (NMS computes each kept box's area once). */
inline float IouF32(const float* a, float area_a, const float* b, float area_b) {
  return math::IouF32(a[0], a[1], a[2], a[3], area_a, b[0], b[1], b[2], b[3], area_b);
}

/** Pairwise IoU matrix rows [row_begin, row_end) of out[na][nb]. */
void IouRows(const float* a, const float* b, size_t nb, float* out, size_t row_begin, size_t row_end);

}  // namespace maskbox::cpu
