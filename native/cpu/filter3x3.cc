// The DBSCAN baseline's 3x3 filter chain on the CPU (see filter3x3.h), fused over its passes per band.
#include "cpu/filter3x3.h"

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "cuda/filter_math.h"  // the per-pixel decisions, shared with the CUDA kernel
#include "pool.h"

namespace maskbox::cpu {
namespace {

// RGB sum (3 x grey) of image row y.
void RowSums(const uint8_t* data, size_t w, int channels, size_t y, uint16_t* out) {
  const uint8_t* r = data + y * w * static_cast<size_t>(channels);
  // A constant channel count per loop, so that each loop is the branch-free sum.
  if (channels == 1) {
    for (size_t x = 0; x < w; x++) out[x] = static_cast<uint16_t>(math::RgbSum(r + x, 1));
  } else if (channels == 3) {
    for (size_t x = 0; x < w; x++) out[x] = static_cast<uint16_t>(math::RgbSum(r + 3 * x, 3));
  } else {
    for (size_t x = 0; x < w; x++) out[x] = static_cast<uint16_t>(math::RgbSum(r + 4 * x, 4));
  }
}

// First pass on one row: conv = 9 * mid + (3x3 box sum) > t0. `col` has w + 2 entries (zero at both
// ends), the column sums up + mid + dn at 1..w. Values <= 9 * 765 + 9 * 765 = 13770: uint16 is exact.
void FirstRow(const uint16_t* up, const uint16_t* mid, const uint16_t* dn, size_t w, unsigned t0, uint16_t* col,
              uint8_t* out) {
  col[0] = col[w + 1] = 0;
  for (size_t x = 0; x < w; x++) col[x + 1] = static_cast<uint16_t>(up[x] + mid[x] + dn[x]);
  for (size_t x = 0; x < w; x++) {
    out[x] = math::FirstPassOn(mid[x], col[x] + col[x + 1] + col[x + 2], t0) ? 1 : 0;
  }
}

// A binary pass on one row: on when mid is on and the 3x3 box sum (centre included) is >= 3.
void BinaryRow(const uint8_t* up, const uint8_t* mid, const uint8_t* dn, size_t w, uint8_t* col, uint8_t* out) {
  col[0] = col[w + 1] = 0;
  for (size_t x = 0; x < w; x++) col[x + 1] = static_cast<uint8_t>(up[x] + mid[x] + dn[x]);
  for (size_t x = 0; x < w; x++) out[x] = math::BinaryPassOn(mid[x], col[x] + col[x + 1] + col[x + 2]) ? 1 : 0;
}

struct Band {
  size_t w, h;
  int channels, passes;
  unsigned t0;
  const uint8_t* data;
  std::vector<uint16_t> sums, col16, zero16;
  std::vector<uint8_t> a, b, col8, zero8;

  // Final-pass rows [y0, y1) into mask. Pass p (1-based) computes rows [y0 - (P-p), y1 + (P-p)) within
  // the image; outside the image is zero padding, so every row a pass reads is in the previous range.
  void Run(size_t y0, size_t y1, uint8_t* mask) {
    const size_t halo = static_cast<size_t>(passes - 1);
    const size_t a1 = y0 >= halo ? y0 - halo : 0, b1 = std::min(h, y1 + halo);
    const size_t s0 = a1 > 0 ? a1 - 1 : 0, s1 = std::min(h, b1 + 1);
    sums.resize((s1 - s0) * w);
    a.resize((b1 - a1) * w);
    b.resize((b1 - a1) * w);
    for (size_t y = s0; y < s1; y++) RowSums(data, w, channels, y, &sums[(y - s0) * w]);
    const auto srow = [&](size_t y, int d) -> const uint16_t* {
      if ((d < 0 && y == 0) || (d > 0 && y + 1 >= h)) return zero16.data();
      return &sums[(y + d - s0) * w];
    };
    for (size_t y = a1; y < b1; y++) FirstRow(srow(y, -1), srow(y, 0), srow(y, 1), w, t0, col16.data(), &a[(y - a1) * w]);
    for (int p = 2; p <= passes; p++) {
      const size_t shrink = static_cast<size_t>(passes - p);
      const size_t lo = y0 >= shrink ? y0 - shrink : 0, hi = std::min(h, y1 + shrink);
      const auto prow = [&](size_t y, int d) -> const uint8_t* {
        if ((d < 0 && y == 0) || (d > 0 && y + 1 >= h)) return zero8.data();
        return &a[(y + d - a1) * w];
      };
      for (size_t y = lo; y < hi; y++) BinaryRow(prow(y, -1), prow(y, 0), prow(y, 1), w, col8.data(), &b[(y - a1) * w]);
      a.swap(b);
    }
    std::memcpy(mask + y0 * w, &a[(y0 - a1) * w], (y1 - y0) * w);
  }
};

}  // namespace

void BaselineFilter(const uint8_t* data, size_t width, size_t height, int channels, int passes, bool unit,
                    uint8_t* mask) {
  if (channels != 1 && channels != 3 && channels != 4) throw std::invalid_argument("channels must be 1, 3 or 4");
  if (passes < 1) throw std::invalid_argument("passes must be >= 1");
  if (width == 0 || height == 0) return;
  // Bands of ~64 rows (at least 4 halos, so recomputed halo rows stay a small share).
  const size_t band = std::max<size_t>(64, 4 * static_cast<size_t>(passes - 1));
  const size_t grain = std::max<size_t>(band, (size_t{1} << 16) / width);
  pool::ParallelFor(height, grain, [&](size_t y0, size_t y1) {
    Band s{width, height, channels, passes, math::FirstPassThreshold(unit), data, {}, std::vector<uint16_t>(width + 2),
           std::vector<uint16_t>(width, 0), {}, {}, std::vector<uint8_t>(width + 2), std::vector<uint8_t>(width, 0)};
    for (size_t y = y0; y < y1; y += band) s.Run(y, std::min(y1, y + band), mask);
  });
}

}  // namespace maskbox::cpu
