// Ground-truth polygons to COCO RLE for cocoEval's preparation (src/ops/cocoEvalPrepare.ts), many masks
// per call, in parallel: each mask's polygons rasterised as pycocotools' rleFrPoly and merged (union) as
// its rleMerge. The spec is src/backends/js/cocoPoly.ts (cocoRleFromPolygon) and cocoRleMerge in
// src/backends/js/cocoRle.ts: the same integer and float64 steps in the same order (built with
// -ffp-contract=off), so the counts are identical.
//
// JS: addon.cocoPolygons({ coords: Float64Array, polyStart: Int32Array [P + 1], maskStart: Int32Array
//     [M + 1], height: Int32Array [M], width: Int32Array [M] }) -> Promise<{ counts: Uint32Array,
//     start: Int32Array [M + 1] }>. Polygon p is coords[polyStart[p], polyStart[p + 1]) (x, y pairs; an
//     odd last value is ignored); mask j is polygons [maskStart[j], maskStart[j + 1]) at height x width.
//     The caller sends only coordinates with |v| <= 2^20 (so every step stays in int32) and sizes with
//     height * width < 2^32; both are checked here too.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "hugePages.h"
#include "pool.h"

namespace maskbox::cpu {
namespace {

constexpr double kMaxCoordinate = 1 << 20;

// C's (int) cast of a double as x86 does it (cInt in cocoPoly.ts); inputs here are always in range.
inline int32_t CInt(double x) {
  if (!(x > -2147483649.0 && x < 2147483648.0)) return INT32_MIN;
  return static_cast<int32_t>(x);
}

/**
 * At least the number of counts FromPolygon gives for these values: its candidates are at most the
 * upsampled points m, plus the closing h * w.
 */
size_t CountsBound(const double* xy, size_t values) {
  const size_t k = values / 2;
  size_t m = 1;
  for (size_t j = 0; j < k; j++) {
    const size_t n = (j + 1) % k;
    const int64_t dx = int64_t{CInt(5 * xy[j * 2] + 0.5)} - CInt(5 * xy[n * 2] + 0.5);
    const int64_t dy = int64_t{CInt(5 * xy[j * 2 + 1] + 0.5)} - CInt(5 * xy[n * 2 + 1] + 0.5);
    m += static_cast<size_t>(std::max(std::llabs(dx), std::llabs(dy))) + 1;
  }
  return m;
}

/** cocoRleFromPolygon: counts of one polygon's mask. */
void FromPolygon(const double* xy, size_t values, uint32_t h, uint32_t w, std::vector<int32_t>& u,
                 std::vector<int32_t>& v, std::vector<double>& cand, std::vector<uint32_t>* out) {
  const int scale = 5;
  const size_t k = values / 2;
  std::vector<int32_t> x(k + 1, 0), y(k + 1, 0);
  for (size_t j = 0; j < k; j++) x[j] = CInt(scale * xy[j * 2] + 0.5);
  x[k] = x[0];
  for (size_t j = 0; j < k; j++) y[j] = CInt(scale * xy[j * 2 + 1] + 0.5);
  y[k] = y[0];
  size_t m = 0;
  for (size_t j = 0; j < k; j++)
    m += static_cast<size_t>(std::max(std::llabs(int64_t{x[j]} - x[j + 1]), std::llabs(int64_t{y[j]} - y[j + 1]))) + 1;
  u.resize(m);
  v.resize(m);
  m = 0;
  for (size_t j = 0; j < k; j++) {
    int32_t xs = x[j], xe = x[j + 1], ys = y[j], ye = y[j + 1];
    const int32_t dx = std::abs(xe - xs), dy = std::abs(ys - ye);
    const bool flip = (dx >= dy && xs > xe) || (dx < dy && ys > ye);
    if (flip) {
      std::swap(xs, xe);
      std::swap(ys, ye);
    }
    if (dx == 0 && dy == 0) {
      u[m] = xs;
      v[m++] = INT32_MIN;
      continue;
    }
    const double s = dx >= dy ? static_cast<double>(ye - ys) / dx : static_cast<double>(xe - xs) / dy;
    if (dx >= dy) {
      for (int32_t d = 0; d <= dx; d++) {
        const int32_t t = flip ? dx - d : d;
        u[m] = t + xs;
        v[m++] = static_cast<int32_t>(ys + s * t + 0.5);  // in int32 range: truncation = Int32Array store
      }
    } else {
      for (int32_t d = 0; d <= dy; d++) {
        const int32_t t = flip ? dy - d : d;
        v[m] = t + ys;
        u[m++] = static_cast<int32_t>(xs + s * t + 0.5);
      }
    }
  }
  cand.clear();
  for (size_t j = 1; j < m; j++) {
    const int32_t uj = u[j], uq = u[j - 1];
    if (uj == uq) continue;
    double xd = uj < uq ? uj : uj - 1;
    xd = (xd + 0.5) / scale - 0.5;
    if (std::floor(xd) != xd || xd < 0 || xd > static_cast<double>(w) - 1) continue;
    const int32_t vj = v[j], vq = v[j - 1];
    double yd = vj < vq ? vj : vq;
    yd = (yd + 0.5) / scale - 0.5;
    if (yd < 0) yd = 0;
    else if (yd > h) yd = h;
    cand.push_back(xd * h + std::ceil(yd));
  }
  cand.push_back(static_cast<double>(h) * w);
  const size_t kk = cand.size();
  std::vector<uint32_t> a(kk);
  for (size_t j = 0; j < kk; j++) a[j] = static_cast<uint32_t>(static_cast<uint64_t>(cand[j]));  // >>> 0
  std::sort(a.begin(), a.end());
  uint32_t p = 0;
  for (size_t j = 0; j < kk; j++) {
    const uint32_t t = a[j];
    a[j] = t - p;
    p = t;
  }
  out->clear();
  size_t j = 0;
  out->push_back(a[j++]);
  while (j < kk) {
    if (a[j] > 0) {
      out->push_back(a[j++]);
    } else {
      j++;
      if (j < kk) out->back() += a[j++];
    }
  }
}

/** cocoRleMerge(union) of two counts of the same size, into `out`. */
void MergeUnion(const std::vector<uint32_t>& A, const std::vector<uint32_t>& B, std::vector<uint32_t>* out) {
  out->clear();
  uint64_t ca = A.empty() ? 0 : A[0], cb = B.empty() ? 0 : B[0];
  int v = 0, va = 0, vb = 0;
  size_t a = 1, b = 1;
  uint64_t cc = 0, ct = 1;
  while (ct > 0) {
    const uint64_t c = std::min(ca, cb);
    cc += c;
    ct = 0;
    ca -= c;
    if (!ca && a < A.size()) {
      ca = A[a++];
      va ^= 1;
    }
    ct += ca;
    cb -= c;
    if (!cb && b < B.size()) {
      cb = B[b++];
      vb ^= 1;
    }
    ct += cb;
    const int vp = v;
    v = va | vb;
    if (v != vp || ct == 0) {
      out->push_back(static_cast<uint32_t>(cc));
      cc = 0;
    }
  }
}

}  // namespace
}  // namespace maskbox::cpu

#ifndef MASKBOX_CORE_ONLY
#include "common.h"

namespace maskbox::cpu {
namespace {

class CocoPolygonsWorker : public Worker {
 public:
  using Worker::Worker;
  View<const double> coords;
  View<const int32_t> poly_start, mask_start, height, width;
  // Masks in order, a block of consecutive masks at a time: block b holds masks [b * per_block, ...)
  // concatenated; mask j has length[j] counts. One buffer per block (not one per mask), reserved at
  // an upper bound so it never moves, with huge pages: ~22 MB of fresh counts at 5,000 images.
  std::vector<std::vector<uint32_t>> blocks;
  std::vector<uint32_t> length;

  void Run() override {
    const size_t M = height.length;
    length.assign(M, 0);
    const size_t per_block = std::max<size_t>(16, (M + 4 * pool::Threads() - 1) / (4 * pool::Threads()));
    blocks.resize((M + per_block - 1) / per_block);
    pool::ParallelFor(blocks.size(), 1, [&](size_t b0, size_t b1) {
      std::vector<int32_t> u, v;
      std::vector<double> cand;
      std::vector<uint32_t> acc, part, merged;
      for (size_t b = b0; b < b1; b++) {
        const size_t first = b * per_block, last = std::min(M, first + per_block);
        // A union's runs are at most its parts' (cocoRleMerge), so the parts' bounds add up.
        size_t bound = 0;
        for (int32_t p = mask_start[first]; p < mask_start[last]; p++)
          bound += CountsBound(coords.data + poly_start[p], static_cast<size_t>(poly_start[p + 1] - poly_start[p]));
        std::vector<uint32_t>& out = blocks[b];
        out.reserve(bound);
        AdviseHugePages(out.data(), bound * sizeof(uint32_t));
        for (size_t j = first; j < last; j++) {
          const uint32_t h = static_cast<uint32_t>(height[j]), w = static_cast<uint32_t>(width[j]);
          acc.clear();
          for (int32_t p = mask_start[j]; p < mask_start[j + 1]; p++) {
            const size_t from = static_cast<size_t>(poly_start[p]), to = static_cast<size_t>(poly_start[p + 1]);
            FromPolygon(coords.data + from, to - from, h, w, u, v, cand, p == mask_start[j] ? &acc : &part);
            if (p == mask_start[j]) continue;
            MergeUnion(acc, part, &merged);
            acc.swap(merged);
          }
          out.insert(out.end(), acc.begin(), acc.end());
          length[j] = static_cast<uint32_t>(acc.size());
        }
      }
    });
  }
  Napi::Value Result(Napi::Env env) override {
    size_t total = 0;
    for (const auto& b : blocks) total += b.size();
    if (total > static_cast<size_t>(INT32_MAX)) throw std::length_error("more than 2^31-1 counts in all");
    auto counts = Napi::TypedArrayOf<uint32_t>::New(env, total);
    auto start = Napi::TypedArrayOf<int32_t>::New(env, length.size() + 1);
    AdviseHugePages(counts.Data(), total * sizeof(uint32_t));
    size_t at = 0;
    for (const auto& b : blocks) {
      if (!b.empty()) std::memcpy(counts.Data() + at, b.data(), b.size() * sizeof(uint32_t));
      at += b.size();
    }
    at = 0;
    start[0] = 0;
    for (size_t j = 0; j < length.size(); j++) {
      at += length[j];
      start[j + 1] = static_cast<int32_t>(at);
    }
    Napi::Object out = Napi::Object::New(env);
    out.Set("counts", counts);
    out.Set("start", start);
    return out;
  }
};

/** Offsets [n + 1] starting at 0, non-decreasing, ending at most at `limit`. */
void CheckOffsets(const Args& args, const char* name, View<const int32_t> s, size_t limit) {
  if (s.length == 0 || s[0] != 0) args.RangeFail(name, "offsets starting at 0", "a different first value");
  for (size_t i = 1; i < s.length; i++)
    if (s[i] < s[i - 1]) args.RangeFail(name, "non-decreasing offsets", "a decrease at " + std::to_string(i));
  if (static_cast<size_t>(s[s.length - 1]) > limit)
    args.RangeFail(name, "offsets within the data (" + std::to_string(limit) + ")", std::to_string(s[s.length - 1]));
}

}  // namespace

Napi::Value JsCocoPolygons(const Napi::CallbackInfo& info) {
  Args args(info, "cocoPolygons");
  auto w = std::make_unique<CocoPolygonsWorker>(info.Env(), "cocoPolygons");
  w->coords = w->HoldConst(args.Float64("coords"));
  w->poly_start = w->HoldConst(args.Int32("polyStart"));
  w->mask_start = w->HoldConst(args.Int32("maskStart"));
  w->height = w->HoldConst(args.Int32("height"));
  w->width = w->HoldConst(args.Int32("width"));
  const size_t M = w->height.length;
  args.Length("width", w->width.length, M, "one width per mask");
  args.Length("maskStart", w->mask_start.length, M + 1, "masks + 1 offsets");
  CheckOffsets(args, "polyStart", w->poly_start, w->coords.length);
  CheckOffsets(args, "maskStart", w->mask_start, w->poly_start.length - 1);
  for (size_t j = 0; j < M; j++) {
    const int32_t h = w->height[j], wd = w->width[j];
    if (h < 0 || wd < 0 || static_cast<uint64_t>(h) * static_cast<uint64_t>(wd) >= (uint64_t{1} << 32))
      args.RangeFail("height", "sizes >= 0 with height * width < 2^32", std::to_string(h) + " x " + std::to_string(wd));
  }
  for (size_t i = 0; i < w->coords.length; i++)
    if (!(std::fabs(w->coords[i]) <= kMaxCoordinate))
      args.RangeFail("coords", "finite coordinates within +-2^20", "coords[" + std::to_string(i) + "]");
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
