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
  bool stretch = false;
  double q_low = 0, q_high = 100;
};

/** Fused letterbox into out [3, out_height, out_width]; writes the value range it used to *low, *high. */
using LetterboxKernel = void (*)(const LetterboxParams& o, float* out, double* low, double* high);

}  // namespace maskbox::cpu
