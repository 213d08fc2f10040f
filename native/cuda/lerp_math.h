// The float32 lerp of the bilinear kernels, shared by native/cpu (resize, letterbox, logitsToRle) and
// native/cuda: torch's `a * wa + b * wb` on float32 as its x86-64 build evaluates it
// (`fma(a, wa, f32(b * wb))`), computed as the JS reference does: `b * wb` rounded to float32, `a * wa`
// exact in double (48 bits), one double add, one rounding to float32. Bit-identical to `lerpF32` in
// src/backends/js/resize.ts (with FMA contraction off: -ffp-contract=off, nvcc --fmad=false; and since
// a * wa is exact in double, even a fused multiply-add would round the same).
#pragma once

#include <cstddef>
#include <cstdint>

#include "iou_math.h"  // MB_HD

namespace maskbox::math {

MB_HD float LerpF32(float a, float wa, float b, float wb) {
  const float p = b * wb;
  return static_cast<float>(static_cast<double>(a) * static_cast<double>(wa) + static_cast<double>(p));
}

}  // namespace maskbox::math

namespace maskbox::math {

/**
 * Bilinear float32 sample of a plane (row-major, `stride` floats a row) from rows r0/r1 and columns
 * c0/c1: along the width on both rows, then along the height, each step LerpF32 (resize, logitsToRle;
 * the cpu kernels do the same steps, one source row at a time).
 */
MB_HD float BilinearF32(const float* plane, size_t stride, int32_t r0, int32_t r1, float wy0, float wy1, int32_t c0,
                        int32_t c1, float wx0, float wx1) {
  const float* a = plane + static_cast<size_t>(r0) * stride;
  const float* b = plane + static_cast<size_t>(r1) * stride;
  const float top = LerpF32(a[c0], wx0, a[c1], wx1);
  const float bottom = LerpF32(b[c0], wx0, b[c1], wx1);
  return LerpF32(top, wy0, bottom, wy1);
}

/**
 * letterboxSample of src/backends/js/letterbox.ts, first half: the float64 interpolation of the samples at
 * r0 + c0, r0 + c1, r1 + c0, r1 + c1 (width first, then height), minus `low`.
 */
template <typename T>
MB_HD double LetterboxBilinear(const T* src, size_t r0, size_t r1, double wy0, double wy1, size_t c0, size_t c1, double wx0,
                               double wx1, double low) {
  const double top = wx0 * src[r0 + c0] + wx1 * src[r0 + c1];
  const double bottom = wx0 * src[r1 + c0] + wx1 * src[r1 + c1];
  return wy0 * top + wy1 * bottom - low;
}

/** letterboxSample, second half: `u <= 0 ? 0 : u >= 1 ? 1 : u` for u = v / range, as two selects (-0 -> +0). */
MB_HD double LetterboxUnit(double v, double range) {
  const double u = v / range;
  const double pos = u > 0.0 ? u : 0.0;
  return pos < 1.0 ? pos : 1.0;
}

}  // namespace maskbox::math
