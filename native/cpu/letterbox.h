// The letterbox kernel contract, shared by the cpu kernel (letterbox.cc) and the CUDA one
// (native/cuda/letterbox.cu): both are handed to the one N-API binding, JsLetterboxWith in letterbox.cc,
// which checks every argument and length before either runs.
#pragma once

#include <cstddef>

namespace maskbox::cpu {

/** The letterbox op's arguments (src/ops/letterbox.ts), checked by the binding. */
struct LetterboxParams {
  const void* data = nullptr;  // uint8 (sixteen = false) or uint16 HWC samples, width * height * channels
  bool sixteen = false;
  size_t width = 0, height = 0, channels = 0;
  size_t new_width = 0, new_height = 0, left = 0, top = 0, out_width = 0, out_height = 0;
  double pad = 0;
  bool stretch = false;  // pooled percentile stretch [q_low, q_high] (percent); else the levels below
  double q_low = 0, q_high = 100;
  // Input values mapped to 0 and 1 per output channel (R, G, B; a grey input's entry repeated), finite.
  double level_low[3] = {0, 0, 0}, level_high[3] = {255, 255, 255};
};

/**
 * What the kernels normalise output channel c with: `clamp((v - low[c]) / range[c], 0, 1)`, range =
 * high - low, or 1 where high <= low (kernelLevels in src/backends/js/letterbox.ts).
 */
struct ChannelLevels {
  double low[3], range[3];
};

/**
 * The levels of a call: the pooled percentile values [pooled_low, pooled_high] on every channel when
 * p.stretch (computed by the caller), else p.level_low / p.level_high. *low_out, *high_out get what the
 * binding reports: the pooled values, or the levels' entry 0.
 */
inline ChannelLevels ResolveLevels(const LetterboxParams& p, double pooled_low, double pooled_high, double* low_out,
                                   double* high_out) {
  ChannelLevels l;
  for (int c = 0; c < 3; c++) {
    const double lo = p.stretch ? pooled_low : p.level_low[c], hi = p.stretch ? pooled_high : p.level_high[c];
    l.low[c] = lo;
    l.range[c] = hi > lo ? hi - lo : 1;
  }
  *low_out = p.stretch ? pooled_low : p.level_low[0];
  *high_out = p.stretch ? pooled_high : p.level_high[0];
  return l;
}

/** Fused letterbox into out [3, out_height, out_width]; writes the value range it reports to *low, *high. */
using LetterboxKernel = void (*)(const LetterboxParams& o, float* out, double* low, double* high);

}  // namespace maskbox::cpu
