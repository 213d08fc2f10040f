// YOLO post-process fused over a raw prediction (no N-API: fuzz/ links it directly). Semantics:
// src/backends/js/yoloNms.ts (YOLOv5's non_max_suppression step by step), which this equals exactly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace maskbox::cpu {

struct YoloNmsOptions {
  const float* pred = nullptr;  // count * width values, width = 4 + (has_objectness ? 1 : 0) + num_classes
  size_t count = 0;             // predictions (rows); at most INT32_MAX
  bool columns = false;         // false: [count, width] (YOLOv5/6); true: [width, count] (YOLOv8/11)
  bool has_objectness = true;
  size_t num_classes = 1;       // >= 1
  double conf = 0.4;            // keep obj > conf, then score > conf (compared as double)
  double iou = 0.45;            // in [0, 1]
  bool has_class_filter = false;          // false keeps every class
  const int32_t* class_filter = nullptr;  // else keep only these classes (values outside [0, C) match none)
  size_t class_filter_length = 0;
  bool agnostic = false;
  size_t max_candidates = 30000, max_detections = 1000;
  double max_wh = 7680;         // class offset: boxes of class c are shifted by float32(c * max_wh)
};

struct YoloDetections {
  std::vector<float> boxes;  // [k * 4] x1,y1,x2,y2 (not shifted)
  std::vector<float> scores;
  std::vector<int32_t> classes, rows;
};

/**
 * Decode (score = float32(cls * obj), best class lowest index on ties, `> conf`), class filter, top
 * max_candidates by (score desc, row asc), cxcywh -> xyxy and class offset in float32, then the shared
 * greedy NMS (nms.h) and max_detections. The decode scan runs on the pool for large inputs over fixed
 * blocks of rows, so the result never depends on the thread count.
 * Throws std::invalid_argument if iou is outside [0, 1] or num_classes is 0.
 */
YoloDetections YoloNms(const YoloNmsOptions& o);

/** A kernel with YoloNms's contract (the CUDA build passes its own to the shared binding, JsYoloNmsWith). */
using YoloNmsKernel = YoloDetections (*)(const YoloNmsOptions&);

}  // namespace maskbox::cpu
