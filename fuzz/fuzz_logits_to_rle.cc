// Fuzzes the fused logits -> RLE op (logitsToRle.cc): bilinear resize [C, h, w] -> [H, W], threshold,
// row-major 1-based runs. Logits are any float bits (NaN, infinities, denormals) or small quantized
// values (ties at the cutoff). Checks it never crashes, every string parses into increasing,
// non-overlapping, non-empty runs inside H x W whose lengths sum to the reported area, and where the size
// does not change and the logits are finite, that the mask is exactly `logit > cutoff` pixel by pixel.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cpu/logitsToRle.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 6) return 0;
  maskbox::cpu::LogitsToRleOptions o;
  o.channels = data[0] % 4;  // 0 is refused by the op
  o.in_height = data[1] % 9;
  o.in_width = data[2] % 9;
  const bool same = data[3] & 1;
  o.out_height = same ? o.in_height : data[4] % 33;
  o.out_width = same ? o.in_width : data[5] % 33;
  const bool quantize = data[3] & 2;
  o.cutoff = quantize ? (data[3] >> 4) / 4.0f - 2 : 0.0f;
  data += 6;
  size -= 6;
  const size_t count = o.channels * o.in_height * o.in_width;
  std::vector<float> logits(count, 0.0f);
  bool finite = true;
  for (size_t i = 0; i < count; i++) {
    if (quantize) {
      if (i < size) logits[i] = static_cast<int8_t>(data[i]) / 16.0f;
    } else if (4 * i + 4 <= size) {
      std::memcpy(&logits[i], data + 4 * i, 4);
    }
    finite = finite && std::isfinite(logits[i]);
  }
  o.data = logits.data();
  std::vector<maskbox::cpu::ClassRle> out;
  try {
    out = maskbox::cpu::LogitsToRle(o);
  } catch (const std::invalid_argument&) {
    if (o.channels && o.in_height && o.in_width && o.out_height && o.out_width) __builtin_trap();
    return 0;
  }
  if (out.size() != o.channels) __builtin_trap();
  const uint64_t pixels = uint64_t(o.out_height) * o.out_width;
  for (size_t c = 0; c < out.size(); c++) {
    const std::string& s = out[c].text;
    const char* p = s.c_str();
    uint64_t area = 0, end = 0;  // end: 1-based position after the previous run
    std::vector<uint8_t> mask(pixels, 0);
    while (*p) {
      char* q;
      const unsigned long long start = std::strtoull(p, &q, 10);
      if (q == p || *q != ' ') __builtin_trap();
      p = q + 1;
      const unsigned long long len = std::strtoull(p, &q, 10);
      if (q == p) __builtin_trap();
      p = *q == ' ' ? q + 1 : q;
      if (start < 1 || len == 0 || start <= end || start - 1 + len > pixels) __builtin_trap();
      end = start + len;  // runs never touch: the next starts after a 0
      for (uint64_t k = 0; k < len; k++) mask[start - 1 + k] = 1;
      area += len;
    }
    if (area != out[c].area) __builtin_trap();
    if (same && finite) {  // (an infinite logit times a zero weight is NaN, as in the JS reference)
      const float* plane = logits.data() + c * pixels;
      for (uint64_t i = 0; i < pixels; i++)
        if (mask[i] != (plane[i] > o.cutoff ? 1 : 0)) __builtin_trap();
    }
  }
  return 0;
}
