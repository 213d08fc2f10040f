// pycocotools' mask.iou on RLEs (maskApi.c rleIou + bbIou), equal to src/backends/js/maskIou.ts.
// JS: addon.maskIou({ dtCounts, dtOffsets, dtSizes, gtCounts, gtOffsets, gtSizes, iscrowd, out })
//     -> Promise<void>; out: Float64Array [D * G], row-major by detection.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/cocoJson.h"
#include "pool.h"

namespace maskbox::cpu {

struct MaskIouInput {
  const uint32_t* dt_counts;
  const int32_t* dt_offsets;
  const int32_t* dt_sizes;
  const uint32_t* gt_counts;
  const int32_t* gt_offsets;
  const int32_t* gt_sizes;
  const uint8_t* iscrowd;
  size_t nd, ng;
};

namespace {

double BbIou(const double* d, const double* g, bool crowd) {
  const double iw = std::min(d[2] + d[0], g[2] + g[0]) - std::max(d[0], g[0]);
  if (iw <= 0) return 0;
  const double ih = std::min(d[3] + d[1], g[3] + g[1]) - std::max(d[1], g[1]);
  if (ih <= 0) return 0;
  const double da = d[2] * d[3], ga = g[2] * g[3], inter = iw * ih;
  return inter / (crowd ? da : da + ga - inter);
}

double CountsIou(const uint32_t* ac, size_t am, const uint32_t* bc, size_t bm, bool crowd) {
  uint64_t ca = am > 0 ? ac[0] : 0, cb = bm > 0 ? bc[0] : 0;
  bool va = false, vb = false;
  size_t a = 1, b = 1;
  uint64_t i = 0, u = 0, ct = 1;
  while (ct > 0) {
    const uint64_t c = std::min(ca, cb);
    if (va || vb) {
      u += c;
      if (va && vb) i += c;
    }
    ct = 0;
    ca -= c;
    if (!ca && a < am) {
      ca = ac[a++];
      va = !va;
    }
    ct += ca;
    cb -= c;
    if (!cb && b < bm) {
      cb = bc[b++];
      vb = !vb;
    }
    ct += cb;
  }
  if (i == 0) {
    u = 1;
  } else if (crowd) {
    u = 0;
    for (size_t j = 1; j < am; j += 2) u += ac[j];
  }
  return static_cast<double>(i) / static_cast<double>(u);
}

}  // namespace

void MaskIou(const MaskIouInput& in, double* out) {
  std::vector<double> db(4 * in.nd), gb(4 * in.ng);
  for (size_t d = 0; d < in.nd; d++)
    CocoCountsToBbox(in.dt_counts + in.dt_offsets[d], size_t(in.dt_offsets[d + 1] - in.dt_offsets[d]),
                 uint64_t(in.dt_sizes[2 * d]), uint64_t(in.dt_sizes[2 * d + 1]), &db[4 * d]);
  for (size_t g = 0; g < in.ng; g++)
    CocoCountsToBbox(in.gt_counts + in.gt_offsets[g], size_t(in.gt_offsets[g + 1] - in.gt_offsets[g]),
                 uint64_t(in.gt_sizes[2 * g]), uint64_t(in.gt_sizes[2 * g + 1]), &gb[4 * g]);
  const size_t grain = std::max<size_t>(1, 256 / std::max<size_t>(1, in.ng));
  pool::ParallelFor(in.nd, grain, [&](size_t begin, size_t end) {
    for (size_t d = begin; d < end; d++) {
      for (size_t g = 0; g < in.ng; g++) {
        const bool crowd = in.iscrowd[g] != 0;
        double v = BbIou(&db[4 * d], &gb[4 * g], crowd);
        if (v > 0) {
          if (in.dt_sizes[2 * d] != in.gt_sizes[2 * g] || in.dt_sizes[2 * d + 1] != in.gt_sizes[2 * g + 1]) {
            v = -1;
          } else {
            v = CountsIou(in.dt_counts + in.dt_offsets[d], size_t(in.dt_offsets[d + 1] - in.dt_offsets[d]),
                          in.gt_counts + in.gt_offsets[g], size_t(in.gt_offsets[g + 1] - in.gt_offsets[g]), crowd);
          }
        }
        out[d * in.ng + g] = v;
      }
    }
  });
}

}  // namespace maskbox::cpu

#ifndef MASKBOX_CORE_ONLY
#include "common.h"

namespace maskbox::cpu {
namespace {

class MaskIouWorker : public Worker {
 public:
  using Worker::Worker;
  View<const uint32_t> dt_counts, gt_counts;
  View<const int32_t> dt_offsets, dt_sizes, gt_offsets, gt_sizes;
  View<const uint8_t> iscrowd;
  View<double> out;
  size_t nd = 0, ng = 0;

  void Run() override {
    MaskIouInput in{dt_counts.data, dt_offsets.data, dt_sizes.data, gt_counts.data, gt_offsets.data,
                    gt_sizes.data,  iscrowd.data,    nd,            ng};
    MaskIou(in, out.data);
  }
};

// Checks one side's flat RLEs: offsets ascending from 0 to counts.length, sizes >= 0 and each RLE's
// counts summing to h*w (the kernel's index arithmetic relies on it).
size_t CheckSide(const Args& args, const char* counts_name, const char* offsets_name, const char* sizes_name,
                 Napi::TypedArrayOf<uint32_t> counts, Napi::TypedArrayOf<int32_t> offsets,
                 Napi::TypedArrayOf<int32_t> sizes) {
  const size_t n1 = offsets.ElementLength();
  if (n1 == 0) args.RangeFail(offsets_name, "n + 1 offsets", "none");
  const size_t n = n1 - 1;
  args.Length(sizes_name, sizes.ElementLength(), 2 * n, "[h, w] per RLE");
  if (offsets[0] != 0) args.RangeFail(offsets_name, "offsets starting at 0", std::to_string(offsets[0]));
  if (size_t(offsets[n]) != counts.ElementLength())
    args.RangeFail(offsets_name, "a last offset equal to the counts' length", std::to_string(offsets[n]));
  for (size_t i = 0; i < n; i++) {
    if (offsets[i + 1] < offsets[i]) args.RangeFail(offsets_name, "ascending offsets", "a decrease");
    if (sizes[2 * i] < 0 || sizes[2 * i + 1] < 0) args.RangeFail(sizes_name, "sizes >= 0", "a negative size");
    uint64_t sum = 0;
    for (int32_t j = offsets[i]; j < offsets[i + 1]; j++) sum += counts[size_t(j)];
    if (sum != uint64_t(sizes[2 * i]) * uint64_t(sizes[2 * i + 1]))
      args.RangeFail(counts_name, "counts summing to h * w", "RLE " + std::to_string(i) + " sums to " + std::to_string(sum));
  }
  return n;
}

}  // namespace

Napi::Value JsMaskIou(const Napi::CallbackInfo& info) {
  Args args(info, "maskIou");
  auto w = std::make_unique<MaskIouWorker>(info.Env(), "maskIou");
  auto typed_u32 = [&](const char* name) {
    Napi::Value v = info[0].As<Napi::Object>().Get(name);
    if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint32_array)
      args.TypeFail(name, "a Uint32Array", Describe(v));
    return v.As<Napi::TypedArrayOf<uint32_t>>();
  };
  auto dc = typed_u32("dtCounts"), gc = typed_u32("gtCounts");
  auto dof = args.Int32("dtOffsets"), dsz = args.Int32("dtSizes");
  auto gof = args.Int32("gtOffsets"), gsz = args.Int32("gtSizes");
  auto crowd = args.Uint8("iscrowd");
  auto out = args.Float64("out");
  w->nd = CheckSide(args, "dtCounts", "dtOffsets", "dtSizes", dc, dof, dsz);
  w->ng = CheckSide(args, "gtCounts", "gtOffsets", "gtSizes", gc, gof, gsz);
  args.Length("iscrowd", crowd.ElementLength(), w->ng, "one flag per ground truth");
  args.Length("out", out.ElementLength(), w->nd * w->ng, "a Float64Array of length D * G");
  w->dt_counts = w->HoldConst(dc);
  w->gt_counts = w->HoldConst(gc);
  w->dt_offsets = w->HoldConst(dof);
  w->dt_sizes = w->HoldConst(dsz);
  w->gt_offsets = w->HoldConst(gof);
  w->gt_sizes = w->HoldConst(gsz);
  w->iscrowd = w->HoldConst(crowd);
  w->out = w->Hold(out);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
