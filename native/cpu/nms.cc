// Greedy NMS on the CPU, equal index for index to src/backends/js/nms.ts (see nms.h).
// JS: addon.nms({ boxes, scores, classes, iouThreshold, scoreThreshold, maxCandidates, maxDetections })
//     -> Promise<Int32Array> of kept indices in visiting order (up to kInlineBoxes candidates computed on
//     the calling thread, the Promise already settled; more on the libuv pool).
#include "cpu/nms.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <stdexcept>

#include "cpu/iou.h"

namespace maskbox::cpu {

namespace {

// Float bits -> an unsigned key whose ascending order is the float's descending order.
inline uint32_t DescendingKey(float s) {
  s += 0.0f;  // -0 -> +0: the reference's comparator treats them as equal
  uint32_t u;
  std::memcpy(&u, &s, sizeof u);
  u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);  // ascending order of the float
  return ~u;
}

// A box takes part in suppression only if its float32 area is finite and > 0. Any other box (zero
// width/height, NaN or infinite coordinates, an overflowing area) has IoU 0 or NaN with every box in
// the reference's arithmetic, so it is never suppressed and never suppresses.
inline bool Interacts(float area) { return area > 0.0f && area <= 3.4028234663852886e38f; }

inline float Area(const float* b) { return (b[2] - b[0]) * (b[3] - b[1]); }

// Monotone map from a coordinate to a cell index in [0, g): boxes that overlap get overlapping cell ranges.
inline int Cell(double v, double lo, double inv, int g) {
  double c = (v - lo) * inv;
  if (!(c >= 0.0)) return 0;
  if (c >= static_cast<double>(g)) return g - 1;
  return static_cast<int>(c);
}

// A kept box that takes part in suppression, with its first cell (to test each pair in one cell only).
struct Kept {
  float b[4];
  float area;
  int32_t cls, cx0, cy0;
};

// A uniform grid over the kept boxes: each cell holds copies of the kept boxes that cover it, stored
// contiguously (scanned without pointer chasing).
struct Grid {
  double x0 = 0, y0 = 0, inv = 1;
  int gx = 1, gy = 1;
  std::vector<std::vector<Kept>> cells;
};

// Kept boxes covering more cells than this go to the `wide` list, tested against every candidate.
constexpr int kMaxCellsPerBox = 16;

}  // namespace

std::vector<int32_t> RankCandidates(const float* scores, size_t n, double score_threshold, size_t max) {
  std::vector<int32_t> idx;
  std::vector<uint32_t> key;
  idx.reserve(n);
  key.reserve(n);
  for (size_t i = 0; i < n; i++) {
    if (static_cast<double>(scores[i]) > score_threshold) {
      idx.push_back(static_cast<int32_t>(i));
      key.push_back(DescendingKey(scores[i]));
    }
  }
  const size_t m = idx.size();
  if (m > 1) {
    // Stable LSD radix sort on the 32-bit key: 11 + 11 + 10 bits; a pass whose digit is the same for
    // every key (common: scores in [0, 1] share their top bits) is skipped. Indices start ascending,
    // so stability gives "equal scores, lower index first".
    std::vector<int32_t> idx2(m);
    std::vector<uint32_t> key2(m);
    const int shifts[3] = {0, 11, 22};
    for (int shift : shifts) {
      uint32_t count[2048] = {0};  // m <= 2^31 (the binding checks n)
      for (size_t i = 0; i < m; i++) count[(key[i] >> shift) & 2047u]++;
      if (count[(key[0] >> shift) & 2047u] == m) continue;
      uint32_t sum = 0;
      for (uint32_t& c : count) {
        uint32_t t = c;
        c = sum;
        sum += t;
      }
      for (size_t i = 0; i < m; i++) {
        size_t d = count[(key[i] >> shift) & 2047u]++;
        key2[d] = key[i];
        idx2[d] = idx[i];
      }
      key.swap(key2);
      idx.swap(idx2);
    }
  }
  if (idx.size() > max) idx.resize(max);
  return idx;
}

std::vector<int32_t> NmsNaive(const NmsOptions& o) {
  std::vector<int32_t> order = RankCandidates(o.scores, o.n, o.score_threshold, o.max_candidates);
  std::vector<int32_t> keep;
  for (size_t c = 0; c < order.size() && keep.size() < o.max_detections; c++) {
    const int32_t i = order[c];
    bool suppressed = false;
    for (int32_t j : keep) {
      if (o.classes && o.classes[i] != o.classes[j]) continue;
      if (static_cast<double>(IouF32(o.boxes + 4 * size_t(i), o.boxes + 4 * size_t(j))) > o.iou_threshold) {
        suppressed = true;
        break;
      }
    }
    if (!suppressed) keep.push_back(i);
  }
  return keep;
}

std::vector<int32_t> Nms(const NmsOptions& o) {
  if (!(o.iou_threshold >= 0.0 && o.iou_threshold <= 1.0)) {
    throw std::invalid_argument("iouThreshold must be between 0 and 1");
  }
  const std::vector<int32_t> order = RankCandidates(o.scores, o.n, o.score_threshold, o.max_candidates);
  const size_t m = order.size();
  const double thr = o.iou_threshold;
  std::vector<int32_t> keep;
  if (m == 0 || o.max_detections == 0) return keep;
  keep.reserve(std::min(m, o.max_detections));

  // Gather the candidates in visiting order once (one pass of random reads); everything after is sequential.
  struct Cand {
    float b[4];
    float area;
    int32_t cls, index;
  };
  std::vector<Cand> cand(m);
  for (size_t c = 0; c < m; c++) {
    const int32_t i = order[c];
    Cand& k = cand[c];
    std::memcpy(k.b, o.boxes + 4 * size_t(i), sizeof k.b);
    k.area = Area(k.b);
    k.cls = o.classes ? o.classes[i] : 0;
    k.index = i;
  }

  // Cell size: about the median side of the interacting candidates, so a typical box covers 1-4
  // cells; at most ~2 cells per candidate in all (sparse scenes get coarser cells).
  double x0 = INFINITY, y0 = INFINITY, x1 = -INFINITY, y1 = -INFINITY;
  std::vector<float> sides;
  sides.reserve(m);
  for (const Cand& k : cand) {
    if (!Interacts(k.area)) continue;
    x0 = std::min<double>(x0, k.b[0]);
    y0 = std::min<double>(y0, k.b[1]);
    x1 = std::max<double>(x1, k.b[2]);
    y1 = std::max<double>(y1, k.b[3]);
    sides.push_back(std::max(k.b[2] - k.b[0], k.b[3] - k.b[1]));
  }
  Grid g;
  if (!sides.empty()) {
    std::nth_element(sides.begin(), sides.begin() + sides.size() / 2, sides.end());
    double cell = std::max<double>(sides[sides.size() / 2], 1e-30);
    const double ex = std::max(x1 - x0, 1e-30), ey = std::max(y1 - y0, 1e-30);
    const double max_cells = std::max<double>(64.0, 2.0 * static_cast<double>(sides.size()));
    auto dim = [&](double extent) {
      double d = std::ceil(extent / cell);
      return d >= 1.0 ? static_cast<int>(std::min(d, 65536.0)) : 1;  // NaN -> 1
    };
    const double cells = std::ceil(ex / cell) * std::ceil(ey / cell);
    if (cells > max_cells) cell *= std::sqrt(cells / max_cells);
    for (;;) {  // elongated extents: the square-root rescale can leave too many cells
      g.gx = dim(ex);
      g.gy = dim(ey);
      if (static_cast<double>(g.gx) * g.gy <= max_cells) break;
      cell *= 1.5;
    }
    g.x0 = x0;
    g.y0 = y0;
    g.inv = 1.0 / cell;
    g.cells.resize(size_t(g.gx) * size_t(g.gy));
  }

  std::vector<Kept> kept, wide;  // wide: kept boxes covering more than kMaxCellsPerBox cells
  for (size_t c = 0; c < m && keep.size() < o.max_detections; c++) {
    const Cand& k = cand[c];
    if (!Interacts(k.area)) {
      keep.push_back(k.index);
      continue;
    }
    const int cx0 = Cell(k.b[0], g.x0, g.inv, g.gx), cx1 = Cell(k.b[2], g.x0, g.inv, g.gx);
    const int cy0 = Cell(k.b[1], g.y0, g.inv, g.gy), cy1 = Cell(k.b[3], g.y0, g.inv, g.gy);
    const size_t ncells = size_t(cx1 - cx0 + 1) * size_t(cy1 - cy0 + 1);
    auto suppresses = [&](const Kept& q) {
      if (o.classes && q.cls != k.cls) return false;
      return static_cast<double>(IouF32(k.b, k.area, q.b, q.area)) > thr;
    };
    bool suppressed = false;
    if (ncells > kept.size()) {
      // A candidate wider than the kept set: scan every kept box.
      for (size_t q = 0; q < kept.size() && !suppressed; q++) suppressed = suppresses(kept[q]);
    } else {
      for (size_t w = 0; w < wide.size() && !suppressed; w++) suppressed = suppresses(wide[w]);
      for (int cy = cy0; cy <= cy1 && !suppressed; cy++) {
        for (int cx = cx0; cx <= cx1 && !suppressed; cx++) {
          for (const Kept& q : g.cells[size_t(cy) * g.gx + cx]) {
            // Each (candidate, kept) pair is tested in one cell only: the one holding the top-left
            // corner of their cell ranges' intersection.
            if (std::max(q.cx0, cx0) != cx || std::max(q.cy0, cy0) != cy) continue;
            if (suppresses(q)) {
              suppressed = true;
              break;
            }
          }
        }
      }
    }
    if (suppressed) continue;
    keep.push_back(k.index);
    Kept q;
    std::memcpy(q.b, k.b, sizeof q.b);
    q.area = k.area;
    q.cls = k.cls;
    q.cx0 = cx0;
    q.cy0 = cy0;
    kept.push_back(q);
    if (ncells > size_t(kMaxCellsPerBox)) {
      wide.push_back(q);
      continue;
    }
    for (int cy = cy0; cy <= cy1; cy++) {
      for (int cx = cx0; cx <= cx1; cx++) g.cells[size_t(cy) * g.gx + cx].push_back(q);
    }
  }
  return keep;
}

}  // namespace maskbox::cpu

// ---- N-API binding (left out of the fuzz build, which defines MASKBOX_CORE_ONLY) ----
#ifndef MASKBOX_CORE_ONLY
#include <string>

#include "common.h"

namespace maskbox::cpu {
namespace {

class NmsWorker : public Worker {
 public:
  using Worker::Worker;
  NmsKernel kernel = Nms;
  View<const float> boxes, scores;
  View<const int32_t> classes;
  NmsOptions options;
  std::vector<int32_t> keep;

  void Run() override {
    options.boxes = boxes.data;
    options.scores = scores.data;
    options.classes = classes.data;
    keep = kernel(options);
  }
  Napi::Value Result(Napi::Env env) override { return ToInt32Array(env, keep); }

  /** The same work on the calling (JS) thread, settling a Promise as Start() would (same error text and code). */
  Napi::Promise RunInline(Napi::Env env, const char* op) {
    auto deferred = Napi::Promise::Deferred::New(env);
    std::string error;
    try {
      Run();
    } catch (const std::bad_alloc&) {
      error = "out of memory";
    } catch (const std::exception& e) {
      error = e.what();
    }
    if (error.empty()) {
      deferred.Resolve(Result(env));
    } else {
      Napi::Error err = Napi::Error::New(env, std::string("maskbox native ") + op + ": " + error);
      err.Set("code", Napi::String::New(env, "ERR_MASKBOX_NATIVE"));
      deferred.Reject(err.Value());
    }
    return deferred.Promise();
  }
};

// Candidates up to this many run on the calling thread. A pool round trip costs ~30 us on a quiet
// machine and 0.4-5 ms of wall time with the cores busy (issue 13); the kernel takes ~0.3 ms (quiet)
// to ~1 ms (load 10) of CPU at 10k YOLO-like boxes (benchmarks/nms.bench.ts), so inline wins there;
// at 32k the kernel is ~1-3 ms, about the hop under load, and larger inputs go to the pool so the
// event loop is not blocked for long.
constexpr size_t kInlineBoxes = size_t{1} << 15;

}  // namespace

// The binding with a given kernel (the cuda build passes its own: native/cuda/addon_cuda.cc).
Napi::Value JsNmsWith(const Napi::CallbackInfo& info, NmsKernel kernel, const char* op);

Napi::Value JsNms(const Napi::CallbackInfo& info) { return JsNmsWith(info, Nms, "nms"); }

/** The thresholds and limits of an NMS call (shared with the CUDA binding on device tensors, addon_tensor.cc). */
void ReadNmsLimits(const Args& args, NmsOptions* o) {
  o->iou_threshold = args.Number("iouThreshold", 0.0, 1.0);
  o->score_threshold = args.Number("scoreThreshold", -INFINITY, INFINITY);
  o->max_candidates = static_cast<size_t>(args.Integer("maxCandidates", 0, int64_t{1} << 53));
  o->max_detections = static_cast<size_t>(args.Integer("maxDetections", 0, int64_t{1} << 53));
}

Napi::Value JsNmsWith(const Napi::CallbackInfo& info, NmsKernel kernel, const char* op) {
  Args args(info, op);
  auto w = std::make_unique<NmsWorker>(info.Env(), op);
  w->kernel = kernel;
  auto boxes = args.Float32("boxes");
  args.MultipleOf("boxes", boxes.ElementLength(), 4, "a Float32Array whose length is a multiple of 4");
  const size_t n = boxes.ElementLength() / 4;
  if (n > size_t(INT32_MAX)) args.RangeFail("boxes", "at most 2^31-1 boxes", std::to_string(n) + " boxes");
  auto scores = args.Float32("scores");
  args.Length("scores", scores.ElementLength(), n, "one score per box");
  Napi::TypedArrayOf<int32_t> classes;
  if (args.OptionalInt32("classes", &classes)) {
    args.Length("classes", classes.ElementLength(), n, "one class per box");
    w->classes = w->HoldConst(classes);
  }
  NmsOptions& o = w->options;
  o.n = n;
  ReadNmsLimits(args, &o);
  w->boxes = w->HoldConst(boxes);
  w->scores = w->HoldConst(scores);
  // Only the CPU kernel runs inline (the cuda build's kernel waits on a device: always the pool).
  if (kernel == Nms && std::min(n, o.max_candidates) <= kInlineBoxes) return w->RunInline(info.Env(), op);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
