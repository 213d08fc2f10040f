// Weighted boxes fusion on the CPU, equal value for value to src/backends/js/wbf.ts (ensemble_boxes'
// algorithm with its float32 steps; see there).
// JS: addon.wbf({ boxes, scores, classes, models, weights, iouThreshold, skipBoxThreshold, confType,
//     allowsOverflow }) -> Promise<{ boxes: Float32Array, scores: Float32Array, classes: Int32Array,
//     counts: Int32Array }>.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <numeric>
#include <vector>

namespace maskbox::cpu {

struct WbfOptions {
  const float* boxes = nullptr;
  const float* scores = nullptr;
  const int32_t* classes = nullptr;
  const int32_t* models = nullptr;
  const double* weights = nullptr;
  size_t n = 0, m = 0;
  double iou_threshold = 0.55, skip_box_threshold = 0.0;
  bool conf_max = false, allows_overflow = false;
};

struct WbfOut {
  std::vector<float> boxes, scores;
  std::vector<int32_t> classes, counts;
};

// Same expression order as iou64 in the reference.
static double Iou64(const double* a, const float* bf) {
  const double b[4] = {bf[0], bf[1], bf[2], bf[3]};
  const double w = std::min(a[2], b[2]) - std::max(a[0], b[0]);
  const double h = std::min(a[3], b[3]) - std::max(a[1], b[1]);
  const double inter = std::max(0.0, w) * std::max(0.0, h);
  if (inter == 0) return 0;
  const double area_a = (a[2] - a[0]) * (a[3] - a[1]);
  const double area_b = (b[2] - b[0]) * (b[3] - b[1]);
  return inter / (area_a + area_b - inter);
}

void Wbf(const WbfOptions& o, WbfOut* res) {
  double w_sum = 0, w_max = 0;
  for (size_t k = 0; k < o.m; k++) {
    w_sum += o.weights[k];
    w_max = std::max(w_max, o.weights[k]);
  }
  std::vector<double> ws(o.n, 0.0);
  std::map<int32_t, std::vector<int32_t>> by_class;
  for (size_t i = 0; i < o.n; i++) {
    if (!(static_cast<double>(o.scores[i]) >= o.skip_box_threshold)) continue;
    const float* b = o.boxes + 4 * i;
    if ((static_cast<double>(b[2]) - b[0]) * (static_cast<double>(b[3]) - b[1]) == 0) continue;
    ws[i] = static_cast<double>(o.scores[i]) * o.weights[o.models[i]];
    by_class[o.classes[i]].push_back(static_cast<int32_t>(i));
  }
  struct Fused {
    double box[4];
    double score;
    int32_t cls, n;
  };
  std::vector<Fused> out;
  for (auto& [cls, list] : by_class) {
    std::stable_sort(list.begin(), list.end(), [&](int32_t a, int32_t b) { return ws[a] > ws[b]; });
    struct Cluster {
      float acc[4] = {0, 0, 0, 0};
      double fused[4] = {0, 0, 0, 0};
      double conf = 0, top = 0;
      int32_t n = 0;
    };
    std::vector<Cluster> cl;
    for (int32_t i : list) {
      const float* b = o.boxes + 4 * size_t(i);
      std::ptrdiff_t best = -1;
      double best_iou = o.iou_threshold;
      for (size_t k = 0; k < cl.size(); k++) {
        const double v = Iou64(cl[k].fused, b);
        if (v > best_iou) {
          best_iou = v;
          best = static_cast<std::ptrdiff_t>(k);
        }
      }
      if (best < 0) {
        best = static_cast<std::ptrdiff_t>(cl.size());
        cl.emplace_back();
      }
      Cluster& c = cl[size_t(best)];
      for (int q = 0; q < 4; q++) c.acc[q] = static_cast<float>(static_cast<double>(c.acc[q]) + ws[i] * b[q]);
      c.conf = c.conf + ws[i];
      c.top = std::max(c.top, ws[i]);
      c.n++;
      const double conf32 = static_cast<float>(c.conf);
      for (int q = 0; q < 4; q++)
        c.fused[q] = c.n == 1 ? static_cast<double>(b[q]) : static_cast<float>(static_cast<double>(c.acc[q]) / conf32);
    }
    for (const Cluster& c : cl) {
      const double raw =
          c.n == 1 ? c.conf : static_cast<float>(o.conf_max ? c.top : c.conf / static_cast<double>(c.n));
      const double k = o.allows_overflow ? c.n : std::min<double>(static_cast<double>(o.m), c.n);
      const double score = o.conf_max ? raw / w_max : (raw * k) / w_sum;
      out.push_back({{c.fused[0], c.fused[1], c.fused[2], c.fused[3]}, score, cls, c.n});
    }
  }
  std::vector<size_t> order(out.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return out[a].score > out[b].score; });
  for (size_t k : order) {
    const Fused& f = out[k];
    for (int q = 0; q < 4; q++) res->boxes.push_back(static_cast<float>(f.box[q]));
    res->scores.push_back(static_cast<float>(f.score));
    res->classes.push_back(f.cls);
    res->counts.push_back(f.n);
  }
}

}  // namespace maskbox::cpu

#ifndef MASKBOX_CORE_ONLY
#include "common.h"
#include "cpu/boxArgs.h"

namespace maskbox::cpu {
namespace {

class WbfWorker : public Worker {
 public:
  using Worker::Worker;
  View<const float> boxes, scores;
  View<const int32_t> classes, models;
  View<const double> weights;
  WbfOptions options;
  WbfOut out;

  void Run() override {
    options.boxes = boxes.data;
    options.scores = scores.data;
    options.classes = classes.data;
    options.models = models.data;
    options.weights = weights.data;
    Wbf(options, &out);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object r = Napi::Object::New(env);
    r.Set("boxes", ToFloat32Array(env, out.boxes));
    r.Set("scores", ToFloat32Array(env, out.scores));
    r.Set("classes", ToInt32Array(env, out.classes));
    r.Set("counts", ToInt32Array(env, out.counts));
    return r;
  }
};

}  // namespace

Napi::Value JsWbf(const Napi::CallbackInfo& info) {
  Args args(info, "wbf");
  auto w = std::make_unique<WbfWorker>(info.Env(), "wbf");
  const size_t n = HoldBoxArgs(args, w.get(), true);
  auto models = args.Int32("models");
  args.Length("models", models.ElementLength(), n, "one model index per box");
  auto weights = args.Float64("weights");
  const size_t m = weights.ElementLength();
  if (m == 0) args.RangeFail("weights", "at least one weight", "none");
  for (size_t k = 0; k < m; k++)
    if (!(weights[k] > 0 && weights[k] < INFINITY)) args.RangeFail("weights", "finite weights > 0", std::to_string(weights[k]));
  for (size_t i = 0; i < n; i++)
    if (models[i] < 0 || size_t(models[i]) >= m)
      args.RangeFail("models", "model indices in [0, weights.length)", std::to_string(models[i]));
  WbfOptions& o = w->options;
  o.n = n;
  o.m = m;
  o.iou_threshold = args.Number("iouThreshold", 0.0, 1.0);
  o.skip_box_threshold = args.Number("skipBoxThreshold", -INFINITY, INFINITY);
  const std::string conf = args.String("confType");
  if (conf != "avg" && conf != "max") args.RangeFail("confType", "'avg' or 'max'", conf);
  o.conf_max = conf == "max";
  o.allows_overflow = args.Boolean("allowsOverflow");
  w->models = w->HoldConst(models);
  w->weights = w->HoldConst(weights);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
