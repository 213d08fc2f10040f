// YOLOv5 scale_boxes on float32 boxes, bit-identical to src/backends/js/scaleBoxes.ts:
// v = f32(f32(x - f32(pad)) / f32(gain)) (a true division), then clipped to [0, image size] in double
// (Math.min(Math.max(v, 0), w): -0 becomes +0, NaN stays NaN), stored as float32.
// JS: addon.scaleBoxes({ boxes, out, gain, padX, padY, imageWidth, imageHeight, clip }) -> Promise<void>;
// `out` has the length of `boxes` and is either `boxes` itself (in place) or a separate array.
#include <cmath>
#include <cstddef>

namespace maskbox::cpu {

void ScaleBoxes(const float* boxes, float* out, size_t n, double gain, double pad_x, double pad_y, double width,
                double height, bool clip) {
  const float g = static_cast<float>(gain), px = static_cast<float>(pad_x), py = static_cast<float>(pad_y);
  for (size_t i = 0; i < n; i++) {
    const bool is_x = (i & 1) == 0;
    const float v = (boxes[i] - (is_x ? px : py)) / g;
    if (!clip) {
      out[i] = v;
      continue;
    }
    double d = v;
    const double hi = is_x ? width : height;
    if (d <= 0) d = 0;  // Math.max(v, 0): also turns -0 into +0
    if (d >= hi) d = hi;
    out[i] = static_cast<float>(d);
  }
}

}  // namespace maskbox::cpu

#ifndef MASKBOX_CORE_ONLY
#include "common.h"

namespace maskbox::cpu {
namespace {

class ScaleBoxesWorker : public Worker {
 public:
  using Worker::Worker;
  View<const float> boxes;
  View<float> out;
  double gain = 1, pad_x = 0, pad_y = 0, width = 0, height = 0;
  bool clip = true;
  // Memory-bound and cheap (~1 ns a coordinate): one thread; in place needs element order anyway.
  void Run() override { ScaleBoxes(boxes.data, out.data, boxes.length, gain, pad_x, pad_y, width, height, clip); }
};

}  // namespace

Napi::Value JsScaleBoxes(const Napi::CallbackInfo& info) {
  Args args(info, "scaleBoxes");
  auto boxes = args.Float32("boxes"), out = args.Float32("out");
  args.MultipleOf("boxes", boxes.ElementLength(), 4, "a Float32Array whose length is a multiple of 4");
  args.Length("out", out.ElementLength(), boxes.ElementLength(), "a Float32Array of the length of boxes");
  const char* a = reinterpret_cast<const char*>(boxes.Data());
  const char* b = reinterpret_cast<const char*>(out.Data());
  const size_t bytes = boxes.ElementLength() * sizeof(float);
  if (a != b && bytes && a < b + bytes && b < a + bytes) {
    args.RangeFail("out", "boxes itself or an array that does not overlap it", "a partly overlapping array");
  }
  auto w = std::make_unique<ScaleBoxesWorker>(info.Env(), "scaleBoxes");
  w->gain = args.Number("gain", 0, INFINITY);
  if (!(w->gain > 0) || w->gain == INFINITY) args.RangeFail("gain", "a finite number > 0", std::to_string(w->gain));
  w->pad_x = args.Number("padX", -INFINITY, INFINITY);
  w->pad_y = args.Number("padY", -INFINITY, INFINITY);
  w->width = args.Number("imageWidth", 0, INFINITY);
  w->height = args.Number("imageHeight", 0, INFINITY);
  w->clip = args.Boolean("clip");
  w->boxes = w->HoldConst(boxes);
  w->out = w->Hold(out);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
