// Fused logits -> bilinear -> threshold -> row-major RLE (no N-API; see logitsToRle.cc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace maskbox::cpu {

struct LogitsToRleOptions {
  const float* data = nullptr;  // [channels, in_height, in_width]
  size_t channels = 0, in_height = 0, in_width = 0, out_height = 0, out_width = 0;
  float cutoff = 0;  // a pixel is on when its interpolated float32 logit is > cutoff
};

struct ClassRle {
  std::string text;  // "start length ..." (1-based starts), "" when empty
  uint64_t area = 0;
};

/** One RLE string and area per channel; uses the shared pool. Throws std::invalid_argument on empty shapes. */
std::vector<ClassRle> LogitsToRle(const LogitsToRleOptions& o);

/** A kernel with LogitsToRle's contract (the cuda build passes its own to the binding, JsLogitsToRleWith). */
using LogitsToRleKernel = std::vector<ClassRle> (*)(const LogitsToRleOptions& o);

}  // namespace maskbox::cpu
