// Fuzzes the NMS core: arbitrary boxes (any float bits: NaN, infinities, huge, negative sizes),
// scores, classes and thresholds. Checks it never crashes, returns valid distinct indices, and, on
// finite input, equals the all-pairs reference index for index (the grid must never change a decision).
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu/nms.h"

using maskbox::cpu::NmsOptions;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint8_t mode = data[0], thr_byte = data[1], caps = data[2], cls_mode = data[3];
  data += 4;
  size -= 4;
  // Half the time quantize coordinates to small integers (dense overlaps, exact ties, planted thresholds).
  const bool quantize = mode & 1;
  const size_t per_box = quantize ? 6 : 20;  // 4 coords + score (+ class)
  const size_t n = size / per_box;
  std::vector<float> boxes(n * 4), scores(n);
  std::vector<int32_t> classes(n);
  bool finite = true;
  for (size_t i = 0; i < n; i++) {
    const uint8_t* p = data + i * per_box;
    if (quantize) {
      float x = p[0] % 64, y = p[1] % 64, w = p[2] % 16, h = p[3] % 16;
      boxes[4 * i] = x;
      boxes[4 * i + 1] = y;
      boxes[4 * i + 2] = x + w;
      boxes[4 * i + 3] = y + h;
      scores[i] = (p[4] % 8) / 8.0f;
      classes[i] = p[5] % 3;
    } else {
      std::memcpy(&boxes[4 * i], p, 16);
      std::memcpy(&scores[i], p + 16, 4);
      classes[i] = p[16] % 3;
      if (mode & 2) {  // mostly-valid boxes: x2 = x1 + |w|, within a finite range
        for (int k = 0; k < 4; k++) {
          float& v = boxes[4 * i + k];
          if (!std::isfinite(v)) v = 0;
          v = std::fmod(v, 1000.0f);
        }
        boxes[4 * i + 2] = boxes[4 * i] + std::fabs(boxes[4 * i + 2]) / 10;
        boxes[4 * i + 3] = boxes[4 * i + 1] + std::fabs(boxes[4 * i + 3]) / 10;
        if (!std::isfinite(scores[i])) scores[i] = 0;
      }
    }
    for (int k = 0; k < 4; k++) finite = finite && std::isfinite(boxes[4 * i + k]);
    finite = finite && !std::isnan(scores[i]);
  }
  NmsOptions o;
  o.boxes = boxes.data();
  o.scores = scores.data();
  o.classes = (cls_mode & 1) ? classes.data() : nullptr;
  o.n = n;
  o.iou_threshold = thr_byte / 255.0;
  o.score_threshold = (mode & 4) ? 0.25 : -INFINITY;
  o.max_candidates = (caps & 1) ? n / 2 : n;
  o.max_detections = (caps & 2) ? caps % 7 : n;

  const std::vector<int32_t> keep = maskbox::cpu::Nms(o);
  std::vector<uint8_t> seen(n, 0);
  for (int32_t i : keep) {
    if (i < 0 || size_t(i) >= n || seen[i]) __builtin_trap();
    seen[i] = 1;
  }
  if (keep.size() > o.max_detections) __builtin_trap();
  if (finite && keep != maskbox::cpu::NmsNaive(o)) __builtin_trap();
  return 0;
}
