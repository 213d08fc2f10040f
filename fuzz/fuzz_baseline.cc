// Fuzzes the lab's DBSCAN baseline (baseline.cc, one native call: 3x3 filter chain -> kept pixels ->
// DBSCAN -> one box per cluster). baseline.cc is included whole so its internal entry point is reachable
// (MASKBOX_CORE_ONLY leaves out its N-API binding). Images 1..48 px, 1 or 3 channels, sparse or dense
// pixels, 1..6 passes, raw/unit scale, eps and min_samples across their range. Checks: no crash; every
// kept point lies inside the image, every label in [-1, clusters), each cluster's size equals its
// labelled points, and every labelled point lies inside its cluster's box (grown by 1 with `edges`).
#include <cstdint>
#include <vector>

#include "cpu/baseline.cc"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 6) return 0;
  maskbox::cpu::BaselineOptions o;
  o.width = data[0] % 48 + 1;
  o.height = data[1] % 48 + 1;
  o.channels = (data[2] & 1) ? 3 : 1;
  o.passes = (data[2] >> 1) % 6 + 1;
  o.unit = data[2] & 16;
  o.edges = data[2] & 32;
  o.eps = (data[3] % 32 + 1) / 8.0;
  o.min_samples = data[4] % 5 + 1;
  const uint8_t density = data[5];
  data += 6;
  size -= 6;
  std::vector<uint8_t> px(o.width * o.height * o.channels, 0);
  for (size_t i = 0; i < px.size() && size > 0; i++) {
    const uint8_t b = data[i % size];
    px[i] = (b % 8) < (density % 9) ? b : 0;  // sparse to dense bright pixels
  }
  const maskbox::cpu::BaselineOutput r = maskbox::cpu::Baseline(px.data(), o);
  const size_t m = r.labels.size(), k = r.sizes.size();
  if (r.points.size() != 2 * m || r.boxes.size() != 4 * k) __builtin_trap();
  std::vector<int32_t> count(k, 0);
  const float grow = o.edges ? 1.0f : 0.0f;
  for (size_t i = 0; i < m; i++) {
    const int32_t x = r.points[2 * i], y = r.points[2 * i + 1], c = r.labels[i];
    if (x < 0 || y < 0 || size_t(x) >= o.width || size_t(y) >= o.height) __builtin_trap();
    if (c < -1 || c >= static_cast<int32_t>(k)) __builtin_trap();
    if (c < 0) continue;
    count[c]++;
    const float* b = &r.boxes[4 * size_t(c)];
    if (x < b[0] || y < b[1] || x + grow > b[2] || y + grow > b[3]) __builtin_trap();
  }
  for (size_t c = 0; c < k; c++)
    if (count[c] != r.sizes[c] || count[c] == 0) __builtin_trap();
  return 0;
}
