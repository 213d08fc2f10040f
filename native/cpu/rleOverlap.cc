// Intersection and areas of pairs of run lists, on runs (a merge walk, no decoding): IoU and Dice of
// RLE masks and of submission CSVs. Equals rleOverlap in src/backends/js/rle.ts.
// JS: addon.rleOverlap({ a: Uint32Array[], b: Uint32Array[], out: Float64Array [n * 3] }) -> Promise<void>
//   out[3k..3k+3) = intersection, area of a[k], area of b[k]. Each list must have even length; lists
//   are validated (sorted, non-overlapping) in TypeScript, and any values are memory-safe here.
#include "cpu/rle.h"
#include "cuda/runs_math.h"  // the merge walk, shared with the CUDA kernel
#include "pool.h"

namespace maskbox::cpu {

uint64_t RunsIntersection(const uint32_t* a, size_t na, const uint32_t* b, size_t nb) {
  return math::RunsIntersection(a, na, b, nb);
}

uint64_t RunsArea(const uint32_t* r, size_t n) { return math::RunsArea(r, n); }

}  // namespace maskbox::cpu

// ---- N-API binding (left out of the fuzz build, which defines MASKBOX_CORE_ONLY) ----
#ifndef MASKBOX_CORE_ONLY
#include "cpu/rleNapi.h"

namespace maskbox::cpu {
namespace {

/** The cpu kernel behind the shared contract: pairs in chunks of about 64k run values on the shared pool. */
void RleOverlapCpu(const uint32_t* const* a, const size_t* la, const uint32_t* const* b, const size_t* lb, size_t pairs, double* out) {
  size_t values = 0;
  for (size_t k = 0; k < pairs; k++) values += la[k] + lb[k];
  const size_t grain = values == 0 ? pairs : std::max<size_t>(1, pairs * (size_t{1} << 16) / values);
  pool::ParallelFor(pairs, grain, [&](size_t begin, size_t end) {
    for (size_t k = begin; k < end; k++) {
      out[3 * k] = static_cast<double>(RunsIntersection(a[k], la[k], b[k], lb[k]));
      out[3 * k + 1] = static_cast<double>(RunsArea(a[k], la[k]));
      out[3 * k + 2] = static_cast<double>(RunsArea(b[k], lb[k]));
    }
  });
}

class RleOverlapWorker : public Worker {
 public:
  using Worker::Worker;
  RleOverlapKernel kernel = nullptr;
  std::vector<View<const uint32_t>> a, b;
  View<double> out;

  void Run() override {
    const size_t n = a.size();
    std::vector<const uint32_t*> pa(n), pb(n);
    std::vector<size_t> la(n), lb(n);
    for (size_t k = 0; k < n; k++) pa[k] = a[k].data, la[k] = a[k].length, pb[k] = b[k].data, lb[k] = b[k].length;
    kernel(pa.data(), la.data(), pb.data(), lb.data(), n, out.data);
  }
};

void CheckEven(const Args& args, const std::vector<View<const uint32_t>>& lists, const char* name) {
  for (size_t k = 0; k < lists.size(); k++) {
    if (lists[k].length % 2 != 0) {
      args.RangeFail((std::string(name) + "[" + std::to_string(k) + "]").c_str(),
                     "a Uint32Array of even length (start, length pairs)", "length " + std::to_string(lists[k].length));
    }
  }
}

}  // namespace

/** Checks the rleOverlap arguments and runs `kernel` (the cpu one or the CUDA one) on the pool's worker. */
Napi::Value JsRleOverlapWith(const Napi::CallbackInfo& info, RleOverlapKernel kernel, const char* op) {
  Args args(info, op);
  Napi::Object o = Options(info);
  auto w = std::make_unique<RleOverlapWorker>(info.Env(), op);
  w->kernel = kernel;
  w->a = HoldArrays<uint32_t>(w.get(), args, o, "a", napi_uint32_array, "Uint32Array", UINT32_MAX / 3);
  w->b = HoldArrays<uint32_t>(w.get(), args, o, "b", napi_uint32_array, "Uint32Array", UINT32_MAX / 3);
  if (w->b.size() != w->a.size()) {
    args.RangeFail("b", "as many run lists as a (" + std::to_string(w->a.size()) + ")", std::to_string(w->b.size()));
  }
  CheckEven(args, w->a, "a");
  CheckEven(args, w->b, "b");
  auto out = Float64Value(args, o, "out");
  args.Length("out", out.ElementLength(), 3 * w->a.size(), "a Float64Array of length 3 * pairs");
  w->out = w->Hold(out);
  return Worker::Start(std::move(w));
}

Napi::Value JsRleOverlap(const Napi::CallbackInfo& info) { return JsRleOverlapWith(info, RleOverlapCpu, "rleOverlap"); }

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
