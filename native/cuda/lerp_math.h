// The float32 lerp of the bilinear kernels, shared by native/cpu (resize, letterbox, logitsToRle) and
// native/cuda: torch's `a * wa + b * wb` on float32 as its x86-64 build evaluates it
// (`fma(a, wa, f32(b * wb))`), computed as the JS reference does: `b * wb` rounded to float32, `a * wa`
// exact in double (48 bits), one double add, one rounding to float32. Bit-identical to `lerpF32` in
// src/backends/js/resize.ts (with FMA contraction off: -ffp-contract=off, nvcc --fmad=false; and since
// a * wa is exact in double, even a fused multiply-add would round the same).
#pragma once

#include "iou_math.h"  // MB_HD

namespace maskbox::math {

MB_HD float LerpF32(float a, float wa, float b, float wb) {
  const float p = b * wb;
  return static_cast<float>(static_cast<double>(a) * static_cast<double>(wa) + static_cast<double>(p));
}

}  // namespace maskbox::math
