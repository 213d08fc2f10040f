// numpy.percentile(samples, q) (method 'linear') from a histogram of integer samples: imagePercentiles in
// src/backends/js/letterbox.ts. Shared by native/cpu/letterbox.cc and native/cuda/letterbox.cu (whose
// histogram is counted on the device).
#pragma once

#include <cmath>
#include <cstddef>

namespace maskbox::cpu {

/** Percentiles q_low and q_high (in percent) of the n samples counted in hist[0, bins) (value v in bin v). */
template <typename Count>
void HistogramPercentiles(const Count* hist, size_t bins, double n, double q_low, double q_high, double* low, double* high) {
  auto kth = [&](double k) -> double {
    double seen = 0;
    for (size_t v = 0; v < bins; v++)
      if ((seen += static_cast<double>(hist[v])) > k) return static_cast<double>(v);
    return static_cast<double>(bins - 1);
  };
  auto percentile = [&](double q) -> double {
    const double virt = (n - 1) * (q / 100);
    const double prev = std::floor(virt);
    if (virt >= n - 1) return kth(n - 1);
    const double a = kth(prev), b = kth(prev + 1);
    const double t = virt - prev, diff = b - a;
    return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;  // numpy's _lerp
  };
  *low = percentile(q_low);
  *high = percentile(q_high);
}

}  // namespace maskbox::cpu
