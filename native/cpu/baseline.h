// The DBSCAN baseline detector (baseline.cc): options, outputs and the kernel contract, shared with the
// CUDA kernel (native/cuda/baseline.cu) so both bind through one argument parser (JsBaselineWith).
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "cpu/dbscan.h"

namespace maskbox::cpu {

constexpr size_t kMaxBaselinePixels = size_t{1} << 26;  // MAX_BASELINE_PIXELS in src/ops/baseline.ts

struct BaselineOptions {
  size_t width = 0, height = 0;
  int channels = 3, passes = 5;
  double eps = 3;
  int64_t min_samples = 2;
  bool unit = true, edges = false;
};

/** boxes [4K] x1,y1,x2,y2 per cluster; sizes [K]; points [2M] (x, y) of the kept pixels, row-major; labels [M]. */
struct BaselineOutput {
  std::vector<float> boxes;
  std::vector<int32_t> sizes, points, labels;
};

/** Throws std::invalid_argument for a size out of range, channels other than 1/3/4 or passes < 1. */
void CheckBaselineOptions(const BaselineOptions& o);

/** DBSCAN's options for m kept pixels of the image (a raster of the image's size is allowed). */
DbscanOptions BaselineDbscanOptions(const BaselineOptions& o, size_t m);

/** The whole chain on HWC uint8 `data` (filter3x3.h -> DBSCAN over (row, col) -> boxes). Throws std::invalid_argument. */
BaselineOutput Baseline(const uint8_t* data, const BaselineOptions& o);

/** A kernel with Baseline's contract (the CUDA build passes its own to JsBaselineWith in baseline.cc). */
using BaselineKernel = BaselineOutput (*)(const uint8_t* data, const BaselineOptions& o);

}  // namespace maskbox::cpu
