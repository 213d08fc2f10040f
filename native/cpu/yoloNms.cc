// YOLO post-process (decode + score + NMS) over a raw prediction, equal output for output to
// src/backends/js/yoloNms.ts (see yoloNms.h). Float32 steps are single IEEE operations (built with
// -ffp-contract=off), which equal the reference's Math.fround of the double result: for +, -, *, / of
// two floats, rounding to double first and then to float gives the same float (53 >= 2 * 24 + 2).
// JS: addon.yoloNms({ pred, count, layout: 'rows' | 'columns', hasObjectness, numClasses, conf, iou,
//       classFilter: Int32Array | null, agnostic, maxCandidates, maxDetections, maxWh })
//     -> Promise<{ boxes: Float32Array, scores: Float32Array, classes: Int32Array, rows: Int32Array }>
#include "cpu/yoloNms.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "cpu/nms.h"
#include "pool.h"

namespace maskbox::cpu {

namespace {

struct Cand {
  int32_t row, cls;
  float score;
};

// Rows are scanned in fixed blocks; each block's candidates go to its own list and the lists are joined
// in block order, so the candidates come out in row order whatever the number of threads.
constexpr size_t kBlock = 1024;
// Below this many prediction values the scan runs on the calling thread (waking helpers costs more).
constexpr size_t kParallelValues = size_t{1} << 18;

// The reference's best class: scan c = 0..n-1 keeping the first s = f32(cls[c] * obj) that is > the best so
// far (from -inf), so the lowest index wins ties and NaN never wins. Four interleaved lanes, each keeping
// its own first maximum, then the lanes merged by (value desc, index asc), give the same class and value.
template <bool kObj>
inline void ArgMax(const float* cls, size_t n, float obj, float* best_out, int32_t* class_out) {
  float best = -INFINITY;
  int32_t bc = 0;
  size_t c = 0;
#if defined(__GNUC__)
  typedef float F4 __attribute__((vector_size(16)));
  typedef int32_t I4 __attribute__((vector_size(16)));
  if (n >= 8) {
    F4 vb = {-INFINITY, -INFINITY, -INFINITY, -INFINITY};
    I4 vi = {0, 0, 0, 0}, vc = {0, 1, 2, 3};
    const I4 four = {4, 4, 4, 4};
    for (; c + 4 <= n; c += 4, vc += four) {
      F4 s;
      std::memcpy(&s, cls + c, sizeof s);
      if (kObj) s *= obj;
      const I4 g = s > vb;  // -1 where s wins
      vb = (F4)((g & (I4)s) | (~g & (I4)vb));
      vi = (g & vc) | (~g & vi);
    }
    for (int l = 0; l < 4; l++) {
      if (vb[l] > best || (vb[l] == best && vi[l] < bc)) {
        best = vb[l];
        bc = vi[l];
      }
    }
  }
#endif
  for (; c < n; c++) {  // the rest (all of it without vector extensions): higher indices, strict >
    const float s = kObj ? cls[c] * obj : cls[c];
    if (s > best) {
      best = s;
      bc = static_cast<int32_t>(c);
    }
  }
  *best_out = best;
  *class_out = bc;
}

struct Decode {
  const YoloNmsOptions& o;
  const uint8_t* allowed;  // [num_classes] or null (every class)
  size_t width;

  void Push(std::vector<Cand>& out, size_t row, int32_t cls, float score) const {
    if (!(static_cast<double>(score) > o.conf)) return;
    if (allowed && !allowed[cls]) return;
    out.push_back({static_cast<int32_t>(row), cls, score});
  }

  // [count, width]: one row at a time; with objectness, rows with obj <= conf are skipped unread.
  template <bool kObj>
  void Rows(size_t begin, size_t end, std::vector<Cand>& out) const {
    const size_t cs = kObj ? 5 : 4, nc = o.num_classes;
    for (size_t r = begin; r < end; r++) {
      const float* p = o.pred + r * width;
      float obj = 1.0f;
      if (kObj) {
        obj = p[4];
        if (!(static_cast<double>(obj) > o.conf)) continue;
      }
      float best;
      int32_t bc;
      ArgMax<kObj>(p + cs, nc, obj, &best, &bc);
      Push(out, r, bc, best);
    }
  }

  // [width, count]: channel-major over a block of rows (contiguous reads of each channel, no transpose).
  template <bool kObj>
  void Columns(size_t begin, size_t end, std::vector<Cand>& out) const {
    const size_t n = end - begin, count = o.count, cs = kObj ? 5 : 4;
    float best[kBlock], obj[kBlock];
    int32_t bc[kBlock];
    for (size_t i = 0; i < n; i++) {
      best[i] = -INFINITY;
      bc[i] = 0;
      obj[i] = kObj ? o.pred[4 * count + begin + i] : 1.0f;
    }
    for (size_t c = 0; c < o.num_classes; c++) {
      const float* ch = o.pred + (cs + c) * count + begin;
      const int32_t ci = static_cast<int32_t>(c);
      for (size_t i = 0; i < n; i++) {  // branch-free (a select and a bit mask) so that it vectorises
        const float s = kObj ? ch[i] * obj[i] : ch[i], b = best[i];
        const int32_t g = -static_cast<int32_t>(s > b);  // NaN never wins, as in the reference
        best[i] = s > b ? s : b;
        bc[i] = (ci & g) | (bc[i] & ~g);
      }
    }
    for (size_t i = 0; i < n; i++) {
      if (kObj && !(static_cast<double>(obj[i]) > o.conf)) continue;
      Push(out, begin + i, bc[i], best[i]);
    }
  }

  void Block(size_t b, std::vector<Cand>& out) const {
    const size_t begin = b * kBlock, end = std::min(o.count, begin + kBlock);
    if (o.columns) {
      o.has_objectness ? Columns<true>(begin, end, out) : Columns<false>(begin, end, out);
    } else {
      o.has_objectness ? Rows<true>(begin, end, out) : Rows<false>(begin, end, out);
    }
  }
};

// Element (row, channel k) of the prediction in either layout.
inline float At(const YoloNmsOptions& o, size_t width, size_t row, size_t k) {
  return o.columns ? o.pred[k * o.count + row] : o.pred[row * width + k];
}

}  // namespace

YoloDetections YoloNms(const YoloNmsOptions& o) {
  if (o.num_classes == 0) throw std::invalid_argument("numClasses must be at least 1");
  if (!(o.iou >= 0.0 && o.iou <= 1.0)) throw std::invalid_argument("iou must be between 0 and 1");
  YoloDetections out;
  const size_t width = 4 + (o.has_objectness ? 1 : 0) + o.num_classes;
  std::vector<uint8_t> allowed;
  if (o.has_class_filter) {
    allowed.assign(o.num_classes, 0);
    for (size_t i = 0; i < o.class_filter_length; i++) {
      const int32_t c = o.class_filter[i];
      if (c >= 0 && static_cast<size_t>(c) < o.num_classes) allowed[size_t(c)] = 1;  // others never match
    }
  }
  const Decode dec{o, o.has_class_filter ? allowed.data() : nullptr, width};

  // 1. Candidates in row order.
  const size_t blocks = (o.count + kBlock - 1) / kBlock;
  std::vector<Cand> cand;
  if (blocks <= 1 || o.count * width < kParallelValues) {
    for (size_t b = 0; b < blocks; b++) dec.Block(b, cand);
  } else {
    std::vector<std::vector<Cand>> per(blocks);
    pool::ParallelFor(blocks, 1, [&](size_t begin, size_t end) {
      for (size_t b = begin; b < end; b++) dec.Block(b, per[b]);
    });
    size_t total = 0;
    for (const auto& v : per) total += v.size();
    cand.reserve(total);
    for (const auto& v : per) cand.insert(cand.end(), v.begin(), v.end());
  }

  // 2. The best max_candidates by score descending, row ascending (stable radix sort of nms.h).
  const size_t m = cand.size();
  std::vector<float> cand_scores(m);
  for (size_t i = 0; i < m; i++) cand_scores[i] = cand[i].score;
  const std::vector<int32_t> order = RankCandidates(cand_scores.data(), m, -INFINITY, o.max_candidates);
  const size_t k = order.size();
  if (k == 0 || o.max_detections == 0) return out;

  // 3. xyxy boxes, and the copies offset by class for one class-agnostic NMS (YOLOv5's max_wh trick).
  std::vector<float> boxes(4 * k), shifted(4 * k), scores(k);
  for (size_t j = 0; j < k; j++) {
    const Cand& c = cand[size_t(order[j])];
    const size_t r = size_t(c.row);
    const float cx = At(o, width, r, 0), cy = At(o, width, r, 1);
    const float hw = At(o, width, r, 2) / 2.0f, hh = At(o, width, r, 3) / 2.0f;
    float* b = &boxes[4 * j];
    b[0] = cx - hw;
    b[1] = cy - hh;
    b[2] = cx + hw;
    b[3] = cy + hh;
    const float off = o.agnostic ? 0.0f : static_cast<float>(static_cast<double>(c.cls) * o.max_wh);
    for (int q = 0; q < 4; q++) shifted[4 * j + q] = b[q] + off;
    scores[j] = c.score;
  }

  // 4. Greedy NMS (the scores are already in visiting order), at most max_detections kept.
  NmsOptions n;
  n.boxes = shifted.data();
  n.scores = scores.data();
  n.n = k;
  n.iou_threshold = o.iou;
  n.max_candidates = k;
  n.max_detections = o.max_detections;
  const std::vector<int32_t> keep = Nms(n);

  out.boxes.resize(4 * keep.size());
  out.scores.resize(keep.size());
  out.classes.resize(keep.size());
  out.rows.resize(keep.size());
  for (size_t i = 0; i < keep.size(); i++) {
    const size_t j = size_t(keep[i]);
    std::copy_n(&boxes[4 * j], 4, &out.boxes[4 * i]);
    out.scores[i] = scores[j];
    const Cand& c = cand[size_t(order[j])];
    out.classes[i] = c.cls;
    out.rows[i] = c.row;
  }
  return out;
}

}  // namespace maskbox::cpu

// ---- N-API binding (left out of the fuzz build, which defines MASKBOX_CORE_ONLY) ----
#ifndef MASKBOX_CORE_ONLY
#include "common.h"

namespace maskbox::cpu {
namespace {

class YoloNmsWorker : public Worker {
 public:
  using Worker::Worker;
  YoloNmsKernel kernel = YoloNms;
  View<const float> pred;
  View<const int32_t> class_filter;
  YoloNmsOptions options;
  YoloDetections det;

  void Run() override {
    options.pred = pred.data;
    options.class_filter = class_filter.data;
    options.class_filter_length = class_filter.length;
    det = kernel(options);
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object r = Napi::Object::New(env);
    r.Set("boxes", ToFloat32Array(env, det.boxes));
    r.Set("scores", ToFloat32Array(env, det.scores));
    r.Set("classes", ToInt32Array(env, det.classes));
    r.Set("rows", ToInt32Array(env, det.rows));
    return r;
  }
};

}  // namespace

// The binding with a given kernel (the cuda build passes its own: native/cuda/addon_cuda.cc).
Napi::Value JsYoloNmsWith(const Napi::CallbackInfo& info, YoloNmsKernel kernel, const char* op);

Napi::Value JsYoloNms(const Napi::CallbackInfo& info) { return JsYoloNmsWith(info, YoloNms, "yoloNms"); }

Napi::Value JsYoloNmsWith(const Napi::CallbackInfo& info, YoloNmsKernel kernel, const char* op) {
  Args args(info, op);
  auto w = std::make_unique<YoloNmsWorker>(info.Env(), op);
  w->kernel = kernel;
  YoloNmsOptions& o = w->options;
  auto pred = args.Float32("pred");
  o.count = static_cast<size_t>(args.Integer("count", 0, INT32_MAX));
  const std::string layout = args.String("layout");
  if (layout != "rows" && layout != "columns") args.RangeFail("layout", "'rows' or 'columns'", "'" + layout + "'");
  o.columns = layout == "columns";
  o.has_objectness = args.Boolean("hasObjectness");
  o.num_classes = static_cast<size_t>(args.Integer("numClasses", 1, INT32_MAX));
  const size_t width = 4 + (o.has_objectness ? 1 : 0) + o.num_classes;
  size_t expected = 0;
  try {
    expected = CheckedMul(o.count, width);
  } catch (const std::overflow_error&) {
    args.RangeFail("count", "count * (values per prediction) to fit in memory", std::to_string(o.count));
  }
  args.Length("pred", pred.ElementLength(), expected, "count * (4 + objectness + numClasses) values");
  Napi::TypedArrayOf<int32_t> filter;
  if (args.OptionalInt32("classFilter", &filter)) {
    o.has_class_filter = true;
    w->class_filter = w->HoldConst(filter);
  }
  o.conf = args.Number("conf", -INFINITY, INFINITY);
  o.iou = args.Number("iou", 0.0, 1.0);
  o.agnostic = args.Boolean("agnostic");
  o.max_candidates = static_cast<size_t>(args.Integer("maxCandidates", 0, int64_t{1} << 53));
  o.max_detections = static_cast<size_t>(args.Integer("maxDetections", 0, int64_t{1} << 53));
  o.max_wh = args.Number("maxWh", -1e9, 1e9);  // class * maxWh stays inside float range
  w->pred = w->HoldConst(pred);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
