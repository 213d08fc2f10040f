// The DBSCAN baseline's 3x3 filter chain per pixel, shared by native/cpu/filter3x3.cc and
// native/cuda/baseline.cu (semantics: cpu/filter3x3.h, src/backends/js/filter3x3.ts). Integer math:
// every backend makes the same decision exactly.
#pragma once

#include <cstdint>

#include "iou_math.h"  // MB_HD

namespace maskbox::math {

/** R + G + B of an HWC pixel (grey counts as R = G = B; a 4th channel is ignored): at most 765. */
MB_HD unsigned RgbSum(const uint8_t* px, int channels) {
  return channels == 1 ? 3u * px[0] : static_cast<unsigned>(px[0]) + px[1] + px[2];
}

/** Pass 1's threshold on the convolution: 11 * 255 for values scaled to [0, 1] (`unit`), 11 raw. */
MB_HD unsigned FirstPassThreshold(bool unit) { return unit ? 11u * 255u : 11u; }

/** Pass 1: `9 * s + box3(s) > t0` (s the pixel's RGB sum, `box` the 3x3 sum of s, centre included). */
MB_HD bool FirstPassOn(unsigned mid, unsigned box, unsigned t0) { return 9u * mid + box > t0; }

/** Passes 2..: on when the pixel is on and the 3x3 count of on pixels (centre included) is >= 3. */
MB_HD bool BinaryPassOn(unsigned mid, unsigned box) { return mid != 0 && box >= 3; }

}  // namespace maskbox::math
