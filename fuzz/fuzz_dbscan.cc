// Fuzzes DBSCAN (dbscan.cc: grid, raster and ties paths): points as small integers (dense ties, exact
// eps distances, duplicates) or as any float bits. Checks it never crashes, labels lie in [-1, clusters),
// and on finite input equals an all-pairs re-statement of scikit-learn's labels (DESIGN.md: core when
// |{q : dist(p, q) <= eps}| >= min_samples, clusters numbered by their lowest-index core point, a border
// point takes the smallest label among the core points within eps).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "cpu/dbscan.h"

namespace {

std::vector<int32_t> Reference(const std::vector<double>& p, size_t n, double eps, int64_t min_samples) {
  auto near = [&](size_t a, size_t b) {
    const double dx = p[2 * a] - p[2 * b], dy = p[2 * a + 1] - p[2 * b + 1];
    return std::sqrt(dx * dx + dy * dy) <= eps;
  };
  std::vector<uint8_t> core(n);
  for (size_t a = 0; a < n; a++) {
    int64_t c = 0;
    for (size_t b = 0; b < n; b++) c += near(a, b);
    core[a] = c >= min_samples;
  }
  std::vector<int32_t> label(n, -1);
  int32_t next = 0;
  for (size_t s = 0; s < n; s++) {
    if (!core[s] || label[s] >= 0) continue;
    std::vector<size_t> stack{s};
    label[s] = next;
    while (!stack.empty()) {
      const size_t a = stack.back();
      stack.pop_back();
      for (size_t b = 0; b < n; b++)
        if (core[b] && label[b] < 0 && near(a, b)) label[b] = next, stack.push_back(b);
    }
    next++;
  }
  for (size_t a = 0; a < n; a++) {
    if (core[a]) continue;
    for (size_t b = 0; b < n; b++)
      if (core[b] && near(a, b) && (label[a] < 0 || label[b] < label[a])) label[a] = label[b];
  }
  return label;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t mode = data[0], eps_byte = data[1], ms_byte = data[2];
  data += 3;
  size -= 3;
  const bool quantize = !(mode & 1);
  const size_t per = quantize ? 2 : 16;
  const size_t n = std::min<size_t>(size / per, 400);
  std::vector<double> pts(2 * n);
  bool finite = true, comparable = true;
  for (size_t i = 0; i < n; i++) {
    if (quantize) {
      const int span = (mode & 2) ? 8 : 64;  // dense clusters or spread-out points
      pts[2 * i] = data[i * 2] % span - (mode & 4 ? span / 2 : 0);
      pts[2 * i + 1] = data[i * 2 + 1] % span;
    } else {
      std::memcpy(&pts[2 * i], data + i * 16, 16);
      finite = finite && std::isfinite(pts[2 * i]) && std::isfinite(pts[2 * i + 1]);
      // Known finding (fuzz/README.md, 2026-12-02): beyond ~1e150 the native grid calls points 1e50 apart
      // neighbours (the JS backend does not). Compared only below that until it is fixed.
      comparable = comparable && std::fabs(pts[2 * i]) < 1e150 && std::fabs(pts[2 * i + 1]) < 1e150;
    }
  }
  maskbox::cpu::DbscanOptions o;
  o.n = n;
  o.dims = 2;
  o.eps = quantize ? (eps_byte % 24 + 1) / 4.0 : (eps_byte + 1) / 16.0;  // exact binary fractions
  o.min_samples = ms_byte % 6 + 1;
  o.raster_pixels = (mode & 8) ? 1 << 16 : 0;  // let integer input take the raster path
  std::vector<int32_t> labels(n, -7);
  std::vector<uint8_t> core(n);
  int32_t clusters;
  try {
    clusters = maskbox::cpu::Dbscan(pts.data(), o, labels.data(), core.data());
  } catch (const std::invalid_argument&) {
    if (finite) __builtin_trap();  // only non-finite points may be refused
    return 0;
  }
  for (size_t i = 0; i < n; i++)
    if (labels[i] < -1 || labels[i] >= clusters) __builtin_trap();
  if (finite && comparable && labels != Reference(pts, n, o.eps, o.min_samples)) __builtin_trap();
  return 0;
}
