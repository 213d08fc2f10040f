// Fuzzes the fused YOLO post-process (native/cpu/yoloNms.cc): arbitrary raw predictions in both layouts,
// with or without objectness, any float bits (NaN, infinities, huge) or quantized values (ties
// everywhere), thresholds, class filters and caps. Checks it never crashes, that its outputs are
// consistent, and, where the boxes entering NMS are finite, that it equals a plain scalar re-statement of
// src/backends/js/yoloNms.ts (row loop, std::stable_sort, all-pairs NmsNaive) bit for bit.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu/nms.h"
#include "cpu/yoloNms.h"

using maskbox::cpu::YoloDetections;
using maskbox::cpu::YoloNmsOptions;

namespace {

YoloDetections Reference(const YoloNmsOptions& o, bool* finite) {
  const size_t width = 4 + (o.has_objectness ? 1 : 0) + o.num_classes, cs = o.has_objectness ? 5 : 4;
  auto at = [&](size_t r, size_t k) { return o.columns ? o.pred[k * o.count + r] : o.pred[r * width + k]; };
  struct C {
    int32_t row, cls;
    float score;
  };
  std::vector<C> cand;
  for (size_t r = 0; r < o.count; r++) {
    const float obj = o.has_objectness ? at(r, 4) : 1.0f;
    if (o.has_objectness && !(static_cast<double>(obj) > o.conf)) continue;
    float best = -INFINITY;
    int32_t bc = 0;
    for (size_t c = 0; c < o.num_classes; c++) {
      const float s = o.has_objectness ? at(r, cs + c) * obj : at(r, cs + c);
      if (s > best) {
        best = s;
        bc = int32_t(c);
      }
    }
    if (!(static_cast<double>(best) > o.conf)) continue;
    if (o.has_class_filter && std::find(o.class_filter, o.class_filter + o.class_filter_length, bc) ==
                                  o.class_filter + o.class_filter_length) {
      continue;
    }
    cand.push_back({int32_t(r), bc, best});
  }
  std::stable_sort(cand.begin(), cand.end(), [](const C& a, const C& b) { return a.score > b.score; });
  if (cand.size() > o.max_candidates) cand.resize(o.max_candidates);
  const size_t n = cand.size();
  std::vector<float> boxes(4 * n), shifted(4 * n), scores(n);
  *finite = true;
  for (size_t i = 0; i < n; i++) {
    const size_t r = size_t(cand[i].row);
    const float cx = at(r, 0), cy = at(r, 1), hw = at(r, 2) / 2.0f, hh = at(r, 3) / 2.0f;
    const float b[4] = {cx - hw, cy - hh, cx + hw, cy + hh};
    const float off = o.agnostic ? 0.0f : float(double(cand[i].cls) * o.max_wh);
    for (int k = 0; k < 4; k++) {
      boxes[4 * i + k] = b[k];
      shifted[4 * i + k] = b[k] + off;
      *finite = *finite && std::isfinite(shifted[4 * i + k]);
    }
    scores[i] = cand[i].score;
  }
  maskbox::cpu::NmsOptions no;
  no.boxes = shifted.data();
  no.scores = scores.data();
  no.n = n;
  no.iou_threshold = o.iou;
  no.max_candidates = n;
  no.max_detections = o.max_detections;
  YoloDetections d;
  for (int32_t i : maskbox::cpu::NmsNaive(no)) {
    d.boxes.insert(d.boxes.end(), &boxes[4 * size_t(i)], &boxes[4 * size_t(i)] + 4);
    d.scores.push_back(scores[size_t(i)]);
    d.classes.push_back(cand[size_t(i)].cls);
    d.rows.push_back(cand[size_t(i)].row);
  }
  return d;
}

template <typename T>
bool SameBits(const std::vector<T>& a, const std::vector<T>& b) {
  return a.size() == b.size() && (a.empty() || std::memcmp(a.data(), b.data(), a.size() * sizeof(T)) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const uint8_t mode = data[0], nc_byte = data[1], conf_byte = data[2], iou_byte = data[3], caps = data[4],
                filter_byte = data[5];
  data += 8;
  size -= 8;
  YoloNmsOptions o;
  o.columns = mode & 1;
  o.has_objectness = mode & 2;
  const bool quantize = mode & 4;
  o.agnostic = mode & 8;
  o.num_classes = (mode & 16) ? 80 : 1 + nc_byte % 9;  // 80: the vectorised best-class path with a tail
  const size_t width = 4 + (o.has_objectness ? 1 : 0) + o.num_classes;
  const size_t per_value = quantize ? 1 : 4;
  o.count = size / (width * per_value);
  std::vector<float> pred(o.count * width);
  for (size_t i = 0; i < pred.size(); i++) {
    if (quantize) {
      // Coordinates snap to a 0.5 grid, scores to eighths: ties in scores, products and IoU.
      const size_t k = o.columns ? i / o.count : i % width;
      pred[i] = k < 4 ? (data[i] % 64) * 0.5f : (data[i] % 9) / 8.0f;
    } else {
      std::memcpy(&pred[i], data + 4 * i, 4);
    }
  }
  o.pred = pred.data();
  o.conf = (mode & 32) ? -INFINITY : conf_byte / 255.0;
  o.iou = iou_byte / 255.0;
  const int32_t filter[3] = {filter_byte % 4, int32_t(filter_byte >> 4) - 2, 79};
  o.has_class_filter = filter_byte & 0x80;
  o.class_filter = filter;
  o.class_filter_length = (filter_byte >> 2) % 4;  // 0..3 entries (0: nothing passes)
  o.max_candidates = (caps & 1) ? caps % 13 : 30000;
  o.max_detections = (caps & 2) ? (caps >> 2) % 9 : 1000;
  o.max_wh = (mode & 64) ? 7680 : 4096;

  const YoloDetections got = maskbox::cpu::YoloNms(o);
  const size_t k = got.rows.size();
  if (got.boxes.size() != 4 * k || got.scores.size() != k || got.classes.size() != k) __builtin_trap();
  if (k > o.max_detections || k > o.max_candidates) __builtin_trap();
  std::vector<uint8_t> seen(o.count, 0);
  for (size_t i = 0; i < k; i++) {
    const int32_t r = got.rows[i], c = got.classes[i];
    if (r < 0 || size_t(r) >= o.count || seen[size_t(r)]) __builtin_trap();
    seen[size_t(r)] = 1;
    if (c < 0 || size_t(c) >= o.num_classes) __builtin_trap();
    if (!(double(got.scores[i]) > o.conf)) __builtin_trap();
  }
  bool finite = true;
  const YoloDetections want = Reference(o, &finite);
  if (finite && !(SameBits(got.rows, want.rows) && SameBits(got.classes, want.classes) &&
                  SameBits(got.scores, want.scores) && SameBits(got.boxes, want.boxes))) {
    __builtin_trap();
  }
  return 0;
}
