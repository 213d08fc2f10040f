// Box math shared by the C++ kernels (native/cpu) and the CUDA kernels (native/cuda): one formula for
// every backend (DESIGN "Kernel contracts" / IoU). Each step is one float32 operation; with FMA
// contraction off (-ffp-contract=off, nvcc --fmad=false) the result is bit-identical to
// src/backends/js/iou.ts (Math.fround after every step) and to torchvision's CPU NMS.
#pragma once

#if defined(__CUDACC__)
#define MB_HD __host__ __device__ __forceinline__
#else
#define MB_HD inline
#endif

namespace maskbox::math {

/** std::min's exact semantics ((b < a) ? b : a: NaN in `a` is kept), unlike fminf. */
MB_HD float MinF(float a, float b) { return (b < a) ? b : a; }
/** std::max's exact semantics ((a < b) ? b : a). */
MB_HD float MaxF(float a, float b) { return (a < b) ? b : a; }

/** (x2 - x1) * (y2 - y1), no +1. */
MB_HD float BoxArea(float x1, float y1, float x2, float y2) { return (x2 - x1) * (y2 - y1); }

/** IoU of boxes a and b (x1,y1,x2,y2) with their areas precomputed; 0 when the union is not > 0. */
MB_HD float IouF32(float ax1, float ay1, float ax2, float ay2, float area_a, float bx1, float by1, float bx2, float by2,
                   float area_b) {
  const float w = MaxF(0.0f, MinF(ax2, bx2) - MaxF(ax1, bx1));
  const float h = MaxF(0.0f, MinF(ay2, by2) - MaxF(ay1, by1));
  const float inter = w * h;
  const float uni = (area_a + area_b) - inter;
  return uni > 0.0f ? inter / uni : 0.0f;
}

}  // namespace maskbox::math
