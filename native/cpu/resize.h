// Bilinear taps and the float32 lerp shared by resize.cc, letterbox.cc and logitsToRle.cc: C++ twins
// of `linearTaps` and `lerpF32` in src/backends/js/resize.ts, step for step, so that with
// -ffp-contract=off (CMakeLists.txt) every result is bit-identical to the TypeScript reference.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cuda/lerp_math.h"  // LerpF32 itself, shared with the CUDA kernels

namespace maskbox::cpu {

/** A resize kernel ([channels, h, w] -> [channels, H, W] float32): the cpu one and the CUDA one share JsResizeWith (resize.cc). */
using ResizeKernel = void (*)(const float* data, size_t channels, size_t h, size_t w, size_t H, size_t W, float* out);

/** Source taps of one axis: output index d reads `w0[d] * in[i0[d]] + w1[d] * in[i1[d]]`. */
template <typename W>
struct LinearTaps {
  std::vector<int32_t> i0, i1;
  std::vector<W> w0, w1;
};

/**
 * Half-pixel-centre taps (align_corners=False, no antialias), as `linearTaps(in, out, float32)` in JS:
 * `scale = in / out` (rounded to float32 when W is float, as torch does for float32 tensors), source
 * coordinate `max(scale * (d + 0.5) - 0.5, 0)` in double, `i0 = min(floor(src), in - 1)`, `i1 = i0 + 1`
 * except at the last source pixel, `w1 = min(src - i0, 1)`, `w0 = 1 - w1` (each rounded to W). An axis
 * whose size does not change is copied (`i0 = i1 = d`, `w0 = 1`, `w1 = 0`). Requires in, out >= 1.
 */
template <typename W>
LinearTaps<W> MakeTaps(size_t in, size_t out) {
  LinearTaps<W> t;
  t.i0.resize(out);
  t.i1.resize(out);
  t.w0.resize(out);
  t.w1.resize(out);
  const double scale = static_cast<W>(static_cast<double>(in) / static_cast<double>(out));
  const double last = static_cast<double>(in - 1);
  for (size_t d = 0; d < out; d++) {
    if (in == out) {
      t.i0[d] = t.i1[d] = static_cast<int32_t>(d);
      t.w0[d] = 1;
      t.w1[d] = 0;
      continue;
    }
    const double src = std::max(scale * (static_cast<double>(d) + 0.5) - 0.5, 0.0);
    const double x0 = std::min(std::floor(src), last);
    const W l1 = static_cast<W>(std::min(src - x0, 1.0));
    t.i0[d] = static_cast<int32_t>(x0);
    t.i1[d] = x0 < last ? static_cast<int32_t>(x0) + 1 : static_cast<int32_t>(x0);
    t.w1[d] = l1;
    t.w0[d] = static_cast<W>(1.0 - static_cast<double>(l1));
  }
  return t;
}

/**
 * torch's `a * wa + b * wb` on float32 as its x86-64 build evaluates it (`fma(a, wa, f32(b * wb))`),
 * computed as the JS reference does: `b * wb` rounded to float32, `a * wa` exact in double (48 bits),
 * one double add, one rounding to float32. Bit-identical to `lerpF32` in src/backends/js/resize.ts.
 */
inline float LerpF32(float a, float wa, float b, float wb) { return math::LerpF32(a, wa, b, wb); }

/**
 * Bilinear resize of planes [begin_plane, end_plane) x output rows [row_begin, row_end) of a [C, h, w]
 * float32 tensor into [C, H, W]: the JS kernel's arithmetic (rows interpolated along the width first,
 * each source row once per call and reused by the output rows that need it).
 */
void ResizeRows(const float* in, size_t h, size_t w, float* out, size_t H, size_t W, const LinearTaps<float>& tx,
                const LinearTaps<float>& ty, size_t plane, size_t row_begin, size_t row_end);

}  // namespace maskbox::cpu
