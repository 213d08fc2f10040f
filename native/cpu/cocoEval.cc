// COCO evaluation on the CPU (pycocotools COCOeval.evaluate + accumulate), equal value for value to the
// reference kernel src/backends/js/cocoEval.ts (with cocoMatch.ts, cocoAccumulate.ts, cocoRle.ts): every
// float64 value is the same expression of the same operands (box IoU, matching comparisons, tp / npig,
// tp / (fp + tp + eps)), so the precision/recall arrays are bit-identical. Two shortcuts compute less
// without changing a value (each explained where it is): mask IoU walks only the runs of 1s, and the
// accumulation evaluates precision and recall at true positives only.
//
// JS: addon.cocoEval({ ...CocoEvalArgs (see src/backends/js/cocoEval.ts), precision, recall }) -> Promise<void>
//     precision: Float64Array [T*R*K*A*M], recall: Float64Array [T*K*A*M], allocated in JS, filled here.
//
// Stages (parallel through the pool):
// 1. per cell (category x image), in parallel: the [D, G] IoU matrix (box IoU as bbIou; segm: run-wise
//    IoU where the boxes overlap, crowd GT using the detection's area), then greedy matching for every
//    area range and IoU threshold, giving each detection a state (FP / TP / ignored);
// 2. per category, in parallel: the stable score sort and, per area range and maxDets, the precision at
//    each recall threshold (searchsorted left) and the final recall.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "pool.h"

namespace maskbox::cpu {

namespace {

constexpr uint8_t kFp = 0, kTp = 1, kIgnored = 2;

/** Masks as concatenated COCO counts (FlatRles in src/backends/js/cocoEval.ts). */
struct FlatRles {
  const uint32_t* counts = nullptr;
  const int32_t* start = nullptr;
  const int32_t* height = nullptr;
  const int32_t* width = nullptr;
};

/** The kernel's input, checked by the binding (every length and offset). */
struct CocoEvalInput {
  bool segm = false;
  size_t I = 0, K = 0, T = 0, R = 0, A = 0, M = 0;
  const double *iou_thrs, *rec_thrs, *area_ranges;
  const int32_t* max_dets;
  const int32_t* gt_start;
  const double *gt_box, *gt_area;
  const uint8_t* gt_crowd;
  const int32_t* dt_start;
  const double *dt_box, *dt_area, *dt_score;
  bool has_rle = false;  // segm with both RLE sets (else box IoU, as the reference)
  FlatRles gt_rle, dt_rle;
};

// JS Math.min / Math.max on non-NaN operands (the signed zero they may differ on never changes a result).
inline double Min(double a, double b) { return b < a ? b : a; }
inline double Max(double a, double b) { return b > a ? b : a; }

/**
 * |A n B| of two masks' counts (countsIou in cocoRle.ts walks every run of both; this walks only the
 * runs of 1s, the pairs counts[2k], counts[2k+1]). Any counts are memory-safe.
 */
uint64_t CountsIntersection(const uint32_t* ac, size_t am, const uint32_t* bc, size_t bm) {
  const size_t na = am & ~size_t{1}, nb = bm & ~size_t{1};
  uint64_t inter = 0;
  if (na == 0 || nb == 0) return 0;
  uint64_t as = ac[0], ae = as + ac[1], bs = bc[0], be = bs + bc[1];
  size_t ia = 2, ib = 2;
  for (;;) {
    const uint64_t lo = as > bs ? as : bs, hi = ae < be ? ae : be;
    if (hi > lo) inter += hi - lo;
    if (ae <= be) {
      if (ia >= na) break;
      as = ae + ac[ia];
      ae = as + ac[ia + 1];
      ia += 2;
    } else {
      if (ib >= nb) break;
      bs = be + bc[ib];
      be = bs + bc[ib + 1];
      ib += 2;
    }
  }
  return inter;
}

constexpr uint64_t kUnknown = UINT64_MAX;

/**
 * The number of 1s of mask j (computed when a cell first needs it: each mask belongs to one cell).
 * Throws unless its counts sum to height * width (the reference's run walk assumes it: it would not
 * terminate otherwise).
 */
uint64_t MaskArea(const FlatRles& r, size_t j, const char* what) {
  uint64_t sum = 0, ones = 0;
  const int32_t q0 = r.start[j], q1 = r.start[j + 1];
  for (int32_t q = q0; q < q1; q++) {
    sum += r.counts[q];
    if ((q - q0) & 1) ones += r.counts[q];
  }
  if (sum != static_cast<uint64_t>(r.height[j]) * static_cast<uint64_t>(r.width[j]))
    throw std::runtime_error(std::string(what) + ": the counts of mask " + std::to_string(j) +
                             " do not sum to height * width");
  return ones;
}

/** Per-thread scratch of stage 1. */
struct CellScratch {
  std::vector<uint64_t> dt_area, gt_area;
  std::vector<double> iou;
  std::vector<int32_t> order;
  std::vector<uint8_t> ignored, crowd, matched;
};

/**
 * Stage 1 for cell c: IoU matrix, then evaluateImg for every area range. Writes state[(n*A + a)*T + t]
 * for the cell's detections n and gt_count[a*cells + c].
 */
void EvaluateCell(const CocoEvalInput& in, size_t c, const double* thr, CellScratch* s, uint8_t* state,
                  int32_t* gt_count) {
  const size_t cells = in.K * in.I, T = in.T, A = in.A;
  const size_t g0 = in.gt_start[c], G = in.gt_start[c + 1] - g0;
  const size_t d0 = in.dt_start[c], D = in.dt_start[c + 1] - d0;
  if (G == 0) {
    for (size_t a = 0; a < A; a++) {
      gt_count[a * cells + c] = 0;
      const double lo = in.area_ranges[2 * a], hi = in.area_ranges[2 * a + 1];
      for (size_t d = 0; d < D; d++) {
        const double ar = in.dt_area[d0 + d];
        std::memset(state + ((d0 + d) * A + a) * T, ar < lo || ar > hi ? kIgnored : kFp, T);
      }
    }
    return;
  }
  if (D == 0) {  // nothing to match: only the count of ground truths in each area range
    for (size_t a = 0; a < A; a++) {
      const double lo = in.area_ranges[2 * a], hi = in.area_ranges[2 * a + 1];
      int32_t kept = 0;
      for (size_t g = 0; g < G; g++) {
        const double ar = in.gt_area[g0 + g];
        kept += !(in.gt_crowd[g0 + g] != 0 || ar < lo || ar > hi);
      }
      gt_count[a * cells + c] = kept;
    }
    return;
  }
  // IoU [D, G] (bboxIouXywh, then rleIou where the boxes overlap); every entry is written below.
  if (s->iou.size() < D * G) s->iou.resize(D * G);
  double* iou = s->iou.data();
  for (size_t g = 0; g < G; g++) {
    const double* gb = in.gt_box + 4 * (g0 + g);
    const double gx = gb[0], gy = gb[1], gw = gb[2], gh = gb[3];
    const double ga = gw * gh;
    const bool is_crowd = in.gt_crowd[g0 + g] != 0;
    for (size_t d = 0; d < D; d++) {
      const double* db = in.dt_box + 4 * (d0 + d);
      const double dx = db[0], dy = db[1], dw = db[2], dh = db[3];
      double& o = iou[d * G + g];
      o = 0;
      const double iw = Min(dw + dx, gw + gx) - Max(dx, gx);
      if (iw <= 0) continue;
      const double ih = Min(dh + dy, gh + gy) - Max(dy, gy);
      if (ih <= 0) continue;
      const double da = dw * dh;
      const double inter = iw * ih;
      o = inter / (is_crowd ? da : da + ga - inter);
    }
  }
  if (in.has_rle) {
    const FlatRles &gr = in.gt_rle, &dr = in.dt_rle;
    s->dt_area.assign(D, kUnknown);
    s->gt_area.assign(G, kUnknown);
    for (size_t d = 0; d < D; d++) {
      const size_t dj = d0 + d;
      for (size_t g = 0; g < G; g++) {
        double& o = iou[d * G + g];
        if (!(o > 0)) continue;
        const size_t gj = g0 + g;
        if (dr.height[dj] != gr.height[gj] || dr.width[dj] != gr.width[gj]) {
          o = -1;
          continue;
        }
        // countsIou: 0 without intersection; else inter / union with union = |A| + |B| - |A n B| (the
        // integer the reference's walk accumulates), or |A| (the detection) for a crowd ground truth.
        const uint64_t inter = CountsIntersection(dr.counts + dr.start[dj], dr.start[dj + 1] - dr.start[dj],
                                                  gr.counts + gr.start[gj], gr.start[gj + 1] - gr.start[gj]);
        if (inter == 0) {
          o = 0;
          continue;
        }
        uint64_t& da = s->dt_area[d];
        uint64_t& ga = s->gt_area[g];
        if (da == kUnknown) da = MaskArea(dr, dj, "dtRle");
        if (ga == kUnknown) ga = MaskArea(gr, gj, "gtRle");
        const uint64_t uni = in.gt_crowd[gj] != 0 ? da : da + ga - inter;
        o = static_cast<double>(inter) / static_cast<double>(uni);
      }
    }
  }
  // evaluateImg per area range (cocoMatch.ts).
  s->order.resize(G);
  s->ignored.resize(G);
  s->crowd.resize(G);
  s->matched.resize(G);
  int32_t* order = s->order.data();
  uint8_t *ignored = s->ignored.data(), *crowd = s->crowd.data(), *matched = s->matched.data();
  for (size_t a = 0; a < A; a++) {
    const double lo = in.area_ranges[2 * a], hi = in.area_ranges[2 * a + 1];
    size_t kept = 0;
    for (size_t g = 0; g < G; g++) {
      const double ar = in.gt_area[g0 + g];
      if (!(in.gt_crowd[g0 + g] != 0 || ar < lo || ar > hi)) order[kept++] = static_cast<int32_t>(g);
    }
    for (size_t g = 0, p = kept; g < G; g++) {
      const double ar = in.gt_area[g0 + g];
      if (in.gt_crowd[g0 + g] != 0 || ar < lo || ar > hi) order[p++] = static_cast<int32_t>(g);
    }
    for (size_t p = 0; p < G; p++) {
      ignored[p] = p >= kept ? 1 : 0;
      crowd[p] = in.gt_crowd[g0 + order[p]];
    }
    gt_count[a * cells + c] = static_cast<int32_t>(kept);
    for (size_t t = 0; t < T; t++) {
      std::memset(matched, 0, G);
      for (size_t d = 0; d < D; d++) {
        double best = thr[t];
        ptrdiff_t m = -1;
        const double* row = iou + d * G;
        for (size_t p = 0; p < G; p++) {
          if (matched[p] && !crowd[p]) continue;
          if (m > -1 && !ignored[m] && ignored[p]) break;
          const double v = row[order[p]];
          if (v < best) continue;
          best = v;
          m = static_cast<ptrdiff_t>(p);
        }
        uint8_t st;
        if (m > -1) {
          st = ignored[m] ? kIgnored : kTp;
          matched[m] = 1;
        } else {
          const double ar = in.dt_area[d0 + d];
          st = ar < lo || ar > hi ? kIgnored : kFp;
        }
        state[((d0 + d) * A + a) * T + t] = st;
      }
    }
  }
}

/**
 * Stage 2 for category k (cocoAccumulate.ts): writes precision/recall entries of k only.
 *
 * Same values as the reference, computed on less: the reference's precision at recall threshold r is
 * the running maximum (from the right) of tp/(tp+fp+eps) over the ranked detections, read at the first
 * rank whose recall reaches r. Recall only grows at a true positive, so for r > 0 that rank is a true
 * positive; and precision only falls along a run of false positives, so the maximum over ranks >= j is
 * the maximum over the true positives >= j (and rank j itself, whose value is 0 when it is a false
 * positive at the start). So only true positives need their recall and precision: the same float64
 * expressions with the same counts, hence the same bits.
 */
void AccumulateCategory(const CocoEvalInput& in, size_t k, const uint8_t* state, const int32_t* gt_count,
                        double* precision, double* recall) {
  const size_t I = in.I, K = in.K, T = in.T, R = in.R, A = in.A, M = in.M, cells = K * I;
  const double eps = std::numeric_limits<double>::epsilon();  // np.spacing(1)
  const size_t n0 = in.dt_start[k * I], n1 = in.dt_start[(k + 1) * I];
  const size_t nk = n1 - n0;
  // One stable sort by score (ties: lower index first); every maxDets cut keeps this relative order.
  std::vector<int32_t> order(nk);
  for (size_t j = 0; j < nk; j++) order[j] = static_cast<int32_t>(n0 + j);
  const double* score = in.dt_score;
  std::sort(order.begin(), order.end(), [score](int32_t x, int32_t y) {
    return score[x] > score[y] || (score[x] == score[y] && x < y);
  });
  // Per (area range, IoU threshold): the detections that are not ignored, in score order, each as
  // code = rank-in-cell << 1 | is-true-positive (one gather pass; the maxDets passes below are sequential).
  std::vector<uint32_t> rank(nk);
  for (size_t i = 0; i < I; i++) {
    const size_t c = k * I + i;
    for (size_t n = in.dt_start[c]; n < static_cast<size_t>(in.dt_start[c + 1]); n++)
      rank[n - n0] = static_cast<uint32_t>(n - in.dt_start[c]);  // < 2^31: fits with the flag
  }
  const size_t AT = A * T;
  std::vector<uint32_t> codes(AT * nk);
  std::vector<size_t> len(AT, 0);
  for (size_t j = 0; j < nk; j++) {
    const size_t n = order[j];
    const uint32_t r2 = rank[n - n0] << 1;
    const uint8_t* st = state + n * AT;
    for (size_t at = 0; at < AT; at++) {
      const uint32_t s = st[at];
      codes[at * nk + len[at]] = r2 | (s == kTp);
      len[at] += s != kIgnored;  // branch-free append
    }
  }
  std::vector<double> tp_rc(nk), tp_pr(nk);
  std::vector<uint32_t> tp_fp(nk + 1);  // per true positive: the false positives ranked before it
  uint32_t* fps = tp_fp.data();
  for (size_t a = 0; a < A; a++) {
    int64_t npig_i = 0;
    for (size_t i = 0; i < I; i++) npig_i += gt_count[a * cells + k * I + i];
    if (npig_i == 0) continue;
    const double npig = static_cast<double>(npig_i);
    for (size_t m = 0; m < M; m++) {
      const uint32_t max_det = static_cast<uint32_t>(std::clamp<int64_t>(in.max_dets[m], 0, INT32_MAX));
      for (size_t t = 0; t < T; t++) {
        const uint32_t* code = codes.data() + (a * T + t) * nk;
        const size_t nc = len[a * T + t];
        // Branch-free count (TP/FP are unpredictable): each TP records the FP count before it.
        uint32_t fp = 0;
        size_t ntp = 0;
        for (size_t j = 0; j < nc; j++) {
          const uint32_t c = code[j];
          const uint32_t in_cut = (c >> 1) < max_det;
          fp += in_cut & ~c & 1u;
          fps[ntp] = fp;
          ntp += in_cut & c & 1u;
        }
        for (size_t i = 0; i < ntp; i++) {
          const double tp = static_cast<double>(i + 1), f = static_cast<double>(fps[i]);
          tp_rc[i] = tp / npig;
          tp_pr[i] = tp / (f + tp + eps);
        }
        recall[((t * K + k) * A + a) * M + m] = static_cast<double>(ntp) / npig;
        for (size_t i = ntp > 0 ? ntp - 1 : 0; i > 0; i--)
          if (tp_pr[i] > tp_pr[i - 1]) tp_pr[i - 1] = tp_pr[i];
        size_t j = 0;
        for (size_t r = 0; r < R; r++) {
          const double thr = in.rec_thrs[r];
          while (j < ntp && tp_rc[j] < thr) j++;
          precision[(((t * R + r) * K + k) * A + a) * M + m] = j < ntp ? tp_pr[j] : 0;
        }
      }
    }
  }
}

/** The whole kernel on checked input; precision [T*R*K*A*M] and recall [T*K*A*M] are overwritten. */
void CocoEvaluate(const CocoEvalInput& input, double* precision, double* recall) {
  const CocoEvalInput& in = input;
  const size_t cells = in.K * in.I, T = in.T, A = in.A;
  const size_t N = cells == 0 ? 0 : static_cast<size_t>(in.dt_start[cells]);
  std::fill(precision, precision + T * in.R * in.K * A * in.M, -1.0);
  std::fill(recall, recall + T * in.K * A * in.M, -1.0);
  std::vector<double> thr(T);
  for (size_t t = 0; t < T; t++) thr[t] = std::min(in.iou_thrs[t], 1 - 1e-10);
  std::vector<uint8_t> state(N * A * T);
  std::vector<int32_t> gt_count(A * cells);
  // ~64 cells a chunk (a few hundred IoUs each): enough to amortise the chunk overhead.
  pool::ParallelFor(cells, 64, [&](size_t begin, size_t end) {
    CellScratch s;
    for (size_t c = begin; c < end; c++) EvaluateCell(in, c, thr.data(), &s, state.data(), gt_count.data());
  });
  pool::ParallelFor(in.K, 1, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; k++)
      AccumulateCategory(in, k, state.data(), gt_count.data(), precision, recall);
  });
}

}  // namespace
}  // namespace maskbox::cpu

// ---- N-API binding (left out of the fuzz build, which defines MASKBOX_CORE_ONLY) ----
#ifndef MASKBOX_CORE_ONLY
#include "common.h"
#include "cpu/cocoArgs.h"

namespace maskbox::cpu {

namespace {

class CocoEvalWorker : public Worker {
 public:
  using Worker::Worker;
  CocoEvalInput in;
  View<double> precision, recall;

  void Run() override { CocoEvaluate(in, precision.data, recall.data); }
};

}  // namespace

Napi::Value JsCocoEval(const Napi::CallbackInfo& info) {
  Args args(info, "cocoEval");
  Napi::Object o = info[0].As<Napi::Object>();
  auto w = std::make_unique<CocoEvalWorker>(info.Env(), "cocoEval");
  CocoEvalInput& in = w->in;
  const std::string type = args.String("iouType");
  if (type != "bbox" && type != "segm") args.RangeFail("iouType", "'bbox' or 'segm'", "'" + type + "'");
  in.segm = type == "segm";
  in.I = static_cast<size_t>(args.Integer("numImages", 0, INT32_MAX));
  in.K = static_cast<size_t>(args.Integer("numCategories", 0, INT32_MAX));
  const size_t cells = in.I * in.K;  // both below 2^31: no overflow in 64 bits
  if (cells >= INT32_MAX) args.RangeFail("numImages", "numImages * numCategories below 2^31 - 1", "too many cells");

  auto iou_thrs = F64(args, o, "iouThrs", "iouThrs"), rec_thrs = F64(args, o, "recThrs", "recThrs");
  auto area_ranges = F64(args, o, "areaRanges", "areaRanges");
  auto max_dets = I32(args, o, "maxDets", "maxDets");
  in.T = iou_thrs.ElementLength();
  in.R = rec_thrs.ElementLength();
  args.MultipleOf("areaRanges", area_ranges.ElementLength(), 2, "lo, hi pairs (an even length)");
  in.A = area_ranges.ElementLength() / 2;
  in.M = max_dets.ElementLength();

  auto gt_start = I32(args, o, "gtStart", "gtStart"), dt_start = I32(args, o, "dtStart", "dtStart");
  args.Length("gtStart", gt_start.ElementLength(), cells + 1, "numImages * numCategories + 1 offsets");
  args.Length("dtStart", dt_start.ElementLength(), cells + 1, "numImages * numCategories + 1 offsets");
  auto gt_area = F64(args, o, "gtArea", "gtArea"), gt_box = F64(args, o, "gtBox", "gtBox");
  auto gt_crowd = args.Uint8("gtCrowd");
  auto dt_area = F64(args, o, "dtArea", "dtArea"), dt_box = F64(args, o, "dtBox", "dtBox");
  auto dt_score = F64(args, o, "dtScore", "dtScore");
  const size_t G = gt_area.ElementLength(), N = dt_score.ElementLength();
  if (G >= INT32_MAX) args.RangeFail("gtArea", "fewer than 2^31 - 1 ground truths", std::to_string(G));
  if (N >= INT32_MAX) args.RangeFail("dtScore", "fewer than 2^31 - 1 detections", std::to_string(N));
  CheckOffsets(args, "gtStart", gt_start.Data(), cells, G, false);
  CheckOffsets(args, "dtStart", dt_start.Data(), cells, N, false);
  args.Length("gtBox", gt_box.ElementLength(), 4 * G, "4 values per ground truth");
  args.Length("gtCrowd", gt_crowd.ElementLength(), G, "one flag per ground truth");
  args.Length("dtBox", dt_box.ElementLength(), 4 * N, "4 values per detection");
  args.Length("dtArea", dt_area.ElementLength(), N, "one area per detection");
  CheckFinite(args, "dtScore", dt_score.Data(), N);  // the score sort needs a total order

  size_t out_len = 0, rec_len = 0;
  try {
    rec_len = CheckedMul(CheckedMul(CheckedMul(in.T, in.K), in.A), in.M);
    out_len = CheckedMul(rec_len, in.R);
  } catch (const std::overflow_error&) {
    args.RangeFail("precision", "T * R * K * A * M that fits in memory", "too large");
  }
  auto precision = F64(args, o, "precision", "precision"), recall = F64(args, o, "recall", "recall");
  args.Length("precision", precision.ElementLength(), out_len, "T * R * K * A * M values");
  args.Length("recall", recall.ElementLength(), rec_len, "T * K * A * M values");

  // As the reference: segm with both RLE sets walks runs; otherwise (either null) box IoU only.
  Napi::Value gr = o.Get("gtRle"), dr = o.Get("dtRle");
  if (!(gr.IsNull() || gr.IsUndefined() || gr.IsObject()))
    args.TypeFail("gtRle", "an object { counts, start, height, width } or null", Describe(gr));
  if (!(dr.IsNull() || dr.IsUndefined() || dr.IsObject()))
    args.TypeFail("dtRle", "an object { counts, start, height, width } or null", Describe(dr));
  in.has_rle = in.segm && gr.IsObject() && dr.IsObject();
  const char* rle_names[2] = {"gtRle", "dtRle"};
  if (in.has_rle) {
    for (int side = 0; side < 2; side++) {
      const std::string base = rle_names[side];
      Napi::Object r = (side == 0 ? gr : dr).As<Napi::Object>();
      const size_t n = side == 0 ? G : N;
      auto counts = TypedProp<uint32_t>(args, r, "counts", base + ".counts", napi_uint32_array, "Uint32Array");
      auto start = I32(args, r, "start", base + ".start");
      auto height = I32(args, r, "height", base + ".height");
      auto width = I32(args, r, "width", base + ".width");
      const std::string sn = base + ".start", hn = base + ".height", wn = base + ".width";
      args.Length(sn.c_str(), start.ElementLength(), n + 1, "one offset per mask + 1");
      CheckOffsets(args, sn.c_str(), start.Data(), n, counts.ElementLength(), true);
      args.Length(hn.c_str(), height.ElementLength(), n, "one height per mask");
      args.Length(wn.c_str(), width.ElementLength(), n, "one width per mask");
      for (size_t j = 0; j < n; j++) {
        if (height[j] < 0 || width[j] < 0)
          args.RangeFail(hn.c_str(), "non-negative sizes", "a negative size at mask " + std::to_string(j));
      }
      FlatRles& f = side == 0 ? in.gt_rle : in.dt_rle;
      f.counts = w->HoldConst(counts).data;
      f.start = w->HoldConst(start).data;
      f.height = w->HoldConst(height).data;
      f.width = w->HoldConst(width).data;
    }
  }
  in.iou_thrs = w->HoldConst(iou_thrs).data;
  in.rec_thrs = w->HoldConst(rec_thrs).data;
  in.area_ranges = w->HoldConst(area_ranges).data;
  in.max_dets = w->HoldConst(max_dets).data;
  in.gt_start = w->HoldConst(gt_start).data;
  in.gt_box = w->HoldConst(gt_box).data;
  in.gt_area = w->HoldConst(gt_area).data;
  in.gt_crowd = w->HoldConst(gt_crowd).data;
  in.dt_start = w->HoldConst(dt_start).data;
  in.dt_box = w->HoldConst(dt_box).data;
  in.dt_area = w->HoldConst(dt_area).data;
  in.dt_score = w->HoldConst(dt_score).data;
  w->precision = w->Hold(precision);
  w->recall = w->Hold(recall);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
