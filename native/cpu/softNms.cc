// Soft-NMS on the CPU, equal index for index and score for score to src/backends/js/softNms.ts.
// JS: addon.softNms({ boxes, scores, classes, method, iouThreshold, sigma, scoreThreshold, maxDetections })
//     -> Promise<{ indices: Int32Array, scores: Float32Array }>. method: 0 linear, 1 gaussian, 2 hard.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "cpu/iou.h"

namespace maskbox::cpu {

struct SoftNmsOptions {
  const float* boxes = nullptr;
  const float* scores = nullptr;
  const int32_t* classes = nullptr;
  size_t n = 0;
  int method = 0;
  double iou_threshold = 0.3, sigma = 0.5, score_threshold = 0.001;
  size_t max_detections = SIZE_MAX;
};

// Same arithmetic as softNmsWeight in the reference (doubles; the IoU is a float32 value).
static double SoftNmsWeight(int method, double o, double thr, double sigma) {
  if (method == 1) return std::exp(-(o * o) / sigma);
  if (o <= thr) return 1.0;
  return method == 0 ? 1.0 - o : 0.0;
}

void SoftNms(const SoftNmsOptions& o, std::vector<int32_t>* keep, std::vector<float>* kept) {
  std::vector<double> cur(o.scores, o.scores + o.n);
  std::vector<float> area(o.n);
  std::vector<int32_t> live;
  for (size_t i = 0; i < o.n; i++) {
    const float* b = o.boxes + 4 * i;
    area[i] = (b[2] - b[0]) * (b[3] - b[1]);
    if (cur[i] > o.score_threshold) live.push_back(static_cast<int32_t>(i));
  }
  while (!live.empty() && keep->size() < o.max_detections) {
    size_t best = 0;
    for (size_t t = 1; t < live.size(); t++)
      if (cur[live[t]] > cur[live[best]]) best = t;
    const int32_t i = live[best];
    live.erase(live.begin() + static_cast<std::ptrdiff_t>(best));
    keep->push_back(i);
    kept->push_back(static_cast<float>(cur[i]));
    const float* bi = o.boxes + 4 * size_t(i);
    size_t w = 0;
    for (size_t t = 0; t < live.size(); t++) {
      const int32_t j = live[t];
      if (!o.classes || o.classes[j] == o.classes[i]) {
        const float v = IouF32(bi, area[i], o.boxes + 4 * size_t(j), area[j]);
        cur[j] = cur[j] * SoftNmsWeight(o.method, static_cast<double>(v), o.iou_threshold, o.sigma);
        if (!(cur[j] > o.score_threshold)) continue;
      }
      live[w++] = j;
    }
    live.resize(w);
  }
}

}  // namespace maskbox::cpu

#ifndef MASKBOX_CORE_ONLY
#include "common.h"
#include "cpu/boxArgs.h"

namespace maskbox::cpu {
namespace {

class SoftNmsWorker : public Worker {
 public:
  using Worker::Worker;
  View<const float> boxes, scores;
  View<const int32_t> classes;
  SoftNmsOptions options;
  std::vector<int32_t> keep;
  std::vector<float> kept;

  void Run() override {
    options.boxes = boxes.data;
    options.scores = scores.data;
    options.classes = classes.data;
    SoftNms(options, &keep, &kept);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object r = Napi::Object::New(env);
    r.Set("indices", ToInt32Array(env, keep));
    r.Set("scores", ToFloat32Array(env, kept));
    return r;
  }
};

}  // namespace

Napi::Value JsSoftNms(const Napi::CallbackInfo& info) {
  Args args(info, "softNms");
  auto w = std::make_unique<SoftNmsWorker>(info.Env(), "softNms");
  const size_t n = HoldBoxArgs(args, w.get(), false);
  const std::string method = args.String("method");
  SoftNmsOptions& o = w->options;
  if (method == "linear") o.method = 0;
  else if (method == "gaussian") o.method = 1;
  else if (method == "hard") o.method = 2;
  else args.RangeFail("method", "'linear', 'gaussian' or 'hard'", method);
  o.n = n;
  o.iou_threshold = args.Number("iouThreshold", 0.0, 1.0);
  o.sigma = args.Number("sigma", 1e-300, INFINITY);
  o.score_threshold = args.Number("scoreThreshold", -INFINITY, INFINITY);
  o.max_detections = static_cast<size_t>(args.Integer("maxDetections", 0, int64_t{1} << 53));
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
