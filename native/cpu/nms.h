// Greedy NMS core (no N-API: fuzz/ links it directly). Semantics: DESIGN "Kernel contracts" / NMS and
// src/backends/js/nms.ts, which is the spec this must equal index for index.
#pragma once

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace maskbox::cpu {

struct NmsOptions {
  const float* boxes = nullptr;      // [n * 4] x1,y1,x2,y2
  const float* scores = nullptr;     // [n]
  const int32_t* classes = nullptr;  // [n] or null (class-agnostic)
  size_t n = 0;
  double iou_threshold = 0.45;       // suppress when float32 IoU > this (compared as double); in [0, 1]
  double score_threshold = -std::numeric_limits<double>::infinity();  // candidates: score > this
  size_t max_candidates = SIZE_MAX;
  size_t max_detections = SIZE_MAX;
};

/**
 * Candidate indices with score > threshold, by score descending then index ascending (a stable LSD
 * radix sort on the score bits; -0 and +0 tie), at most `max` of them.
 */
std::vector<int32_t> RankCandidates(const float* scores, size_t n, double score_threshold, size_t max);

/**
 * Kept indices in visiting order. Each candidate is tested only against kept boxes that overlap it
 * (a uniform grid over the kept boxes, cells about the median box size), never all pairs; the result
 * is the same as testing all pairs because IoU > threshold >= 0 needs a strict overlap.
 * Throws std::invalid_argument if iou_threshold is outside [0, 1] (the grid relies on it).
 */
std::vector<int32_t> Nms(const NmsOptions& o);

/** A kernel with Nms's contract (the CUDA build passes its own to the shared binding, JsNmsWith in nms.cc). */
using NmsKernel = std::vector<int32_t> (*)(const NmsOptions&);

/** All-pairs reference (O(candidates x kept)), for tests and fuzzing. */
std::vector<int32_t> NmsNaive(const NmsOptions& o);

}  // namespace maskbox::cpu
