// Non-maximum merging on the CPU, equal to src/backends/js/nmm.ts (keepers, merged boxes, groups).
// JS: addon.nmm({ boxes, scores, classes, metric, matchThreshold, scoreThreshold, maxDetections })
//     -> Promise<{ indices: Int32Array, boxes: Float32Array, groups: Int32Array }>.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <vector>

#include "cpu/iou.h"
#include "cpu/nms.h"

namespace maskbox::cpu {

struct NmmOptions {
  const float* boxes = nullptr;
  const float* scores = nullptr;
  const int32_t* classes = nullptr;
  size_t n = 0;
  bool ios = true;
  double match_threshold = 0.5, score_threshold = -INFINITY;
  size_t max_detections = SIZE_MAX;
};

/** Intersection over the smaller area in float32 steps (iosF32 in the reference); 0 when that area is 0. */
inline float IosF32(const float* a, const float* b) {
  const float area_a = (a[2] - a[0]) * (a[3] - a[1]);
  const float area_b = (b[2] - b[0]) * (b[3] - b[1]);
  const float w = std::max(0.0f, std::min(a[2], b[2]) - std::max(a[0], b[0]));
  const float h = std::max(0.0f, std::min(a[3], b[3]) - std::max(a[1], b[1]));
  const float small = std::min(area_a, area_b);
  return small > 0.0f ? (w * h) / small : 0.0f;
}

void Nmm(const NmmOptions& o, std::vector<int32_t>* keep, std::vector<float>* merged, std::vector<int32_t>* groups) {
  const std::vector<int32_t> order = RankCandidates(o.scores, o.n, o.score_threshold, o.n);
  groups->assign(o.n, -1);
  for (size_t p = 0; p < order.size() && keep->size() < o.max_detections; p++) {
    const int32_t i = order[p];
    if ((*groups)[i] != -1) continue;
    const int32_t g = static_cast<int32_t>(keep->size());
    keep->push_back(i);
    (*groups)[i] = g;
    const float* bi = o.boxes + 4 * size_t(i);
    float box[4] = {bi[0], bi[1], bi[2], bi[3]};
    for (size_t q = p + 1; q < order.size(); q++) {
      const int32_t j = order[q];
      if ((*groups)[j] != -1 || (o.classes && o.classes[j] != o.classes[i])) continue;
      const float* bj = o.boxes + 4 * size_t(j);
      const float m = o.ios ? IosF32(bi, bj) : IouF32(bi, bj);
      if (!(static_cast<double>(m) > o.match_threshold)) continue;
      (*groups)[j] = g;
      box[0] = std::min(box[0], bj[0]);
      box[1] = std::min(box[1], bj[1]);
      box[2] = std::max(box[2], bj[2]);
      box[3] = std::max(box[3], bj[3]);
    }
    merged->insert(merged->end(), box, box + 4);
  }
}

}  // namespace maskbox::cpu

#ifndef MASKBOX_CORE_ONLY
#include "common.h"
#include "cpu/boxArgs.h"

namespace maskbox::cpu {
namespace {

class NmmWorker : public Worker {
 public:
  using Worker::Worker;
  View<const float> boxes, scores;
  View<const int32_t> classes;
  NmmOptions options;
  std::vector<int32_t> keep, groups;
  std::vector<float> merged;

  void Run() override {
    options.boxes = boxes.data;
    options.scores = scores.data;
    options.classes = classes.data;
    Nmm(options, &keep, &merged, &groups);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object r = Napi::Object::New(env);
    r.Set("indices", ToInt32Array(env, keep));
    r.Set("boxes", ToFloat32Array(env, merged));
    r.Set("groups", ToInt32Array(env, groups));
    return r;
  }
};

}  // namespace

Napi::Value JsNmm(const Napi::CallbackInfo& info) {
  Args args(info, "nmm");
  auto w = std::make_unique<NmmWorker>(info.Env(), "nmm");
  const size_t n = HoldBoxArgs(args, w.get(), false);
  NmmOptions& o = w->options;
  const std::string metric = args.String("metric");
  if (metric != "iou" && metric != "ios") args.RangeFail("metric", "'iou' or 'ios'", metric);
  o.ios = metric == "ios";
  o.n = n;
  o.match_threshold = args.Number("matchThreshold", 0.0, 1.0);
  o.score_threshold = args.Number("scoreThreshold", -INFINITY, INFINITY);
  o.max_detections = static_cast<size_t>(args.Integer("maxDetections", 0, int64_t{1} << 53));
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
