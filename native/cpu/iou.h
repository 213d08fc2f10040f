// The float32 IoU every box kernel shares (DESIGN "Kernel contracts": torchvision's CPU arithmetic).
// Each step is one float32 operation, so with -ffp-contract=off (no FMA fusion) the result is
// bit-identical to src/backends/js/iou.ts (Math.fround after every step).
#pragma once

#include <algorithm>
#include <cstdint>

namespace maskbox::cpu {

/** IoU of boxes a and b (x1,y1,x2,y2), area (x2-x1)*(y2-y1), 0 when the union is 0. */
inline float IouF32(const float* a, const float* b) {
  const float area_a = (a[2] - a[0]) * (a[3] - a[1]);
  const float area_b = (b[2] - b[0]) * (b[3] - b[1]);
  const float w = std::max(0.0f, std::min(a[2], b[2]) - std::max(a[0], b[0]));
  const float h = std::max(0.0f, std::min(a[3], b[3]) - std::max(a[1], b[1]));
  const float inter = w * h;
  const float uni = (area_a + area_b) - inter;
  return uni > 0.0f ? inter / uni : 0.0f;
}

/** Same, with box a's area precomputed (NMS computes each kept box's area once). */
inline float IouF32(const float* a, float area_a, const float* b, float area_b) {
  const float w = std::max(0.0f, std::min(a[2], b[2]) - std::max(a[0], b[0]));
  const float h = std::max(0.0f, std::min(a[3], b[3]) - std::max(a[1], b[1]));
  const float inter = w * h;
  const float uni = (area_a + area_b) - inter;
  return uni > 0.0f ? inter / uni : 0.0f;
}

/** Pairwise IoU matrix rows [row_begin, row_end) of out[na][nb]. */
void IouRows(const float* a, const float* b, size_t nb, float* out, size_t row_begin, size_t row_end);

}  // namespace maskbox::cpu
