// Bilinear resize [C, h, w] -> [C, H, W] float32 (torch F.interpolate, align_corners=False), bit-identical
// to src/backends/js/resize.ts (see resize.h for the arithmetic).
// JS: addon.resize({ data, channels, inHeight, inWidth, outHeight, outWidth, out }) -> Promise<void>;
// `out` is a Float32Array [C * H * W] allocated in JS, not overlapping `data`.
#include "cpu/resize.h"

#include <cstring>

#include "pool.h"

namespace maskbox::cpu {

namespace {

// Multiversioned: the AVX2 clone converts 4 floats <-> doubles per instruction (the baseline x86-64
// build has SSE2 only). The arithmetic is the same IEEE operations on every clone (no FMA: avx2 does
// not imply the fma target, and -ffp-contract=off forbids contraction anyway).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(MASKBOX_SANITIZE)
#define MASKBOX_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MASKBOX_CLONES
#endif

MASKBOX_CLONES
void HorizontalRow(const float* __restrict src, const LinearTaps<float>& tx, float* __restrict dst, size_t W) {
  const int32_t* i0 = tx.i0.data();
  const int32_t* i1 = tx.i1.data();
  const float* w0 = tx.w0.data();
  const float* w1 = tx.w1.data();
  for (size_t x = 0; x < W; x++) dst[x] = LerpF32(src[i0[x]], w0[x], src[i1[x]], w1[x]);
}

MASKBOX_CLONES
void VerticalRow(const float* __restrict r0, float wy0, const float* __restrict r1, float wy1, float* __restrict dst,
                 size_t W) {
  for (size_t x = 0; x < W; x++) dst[x] = LerpF32(r0[x], wy0, r1[x], wy1);
}

}  // namespace

void ResizeRows(const float* in, size_t h, size_t w, float* out, size_t H, size_t W, const LinearTaps<float>& tx,
                const LinearTaps<float>& ty, size_t plane, size_t row_begin, size_t row_end) {
  const float* src = in + plane * h * w;
  float* dst = out + plane * H * W;
  // Two cached horizontally interpolated source rows (source rows are visited in non-decreasing order).
  std::vector<float> rows(2 * W);
  float* cache[2] = {rows.data(), rows.data() + W};
  int64_t key[2] = {-1, -1};
  auto row = [&](int64_t y) -> const float* {
    if (key[0] == y) return cache[0];
    if (key[1] == y) return cache[1];
    const int k = key[0] < key[1] ? 0 : 1;  // evict the older (lower) row
    HorizontalRow(src + size_t(y) * w, tx, cache[k], W);
    key[k] = y;
    return cache[k];
  };
  for (size_t y = row_begin; y < row_end; y++) {
    const float* r0 = row(ty.i0[y]);
    const float* r1 = row(ty.i1[y]);  // i1 is i0 or i0 + 1: never evicts r0
    VerticalRow(r0, ty.w0[y], r1, ty.w1[y], dst + y * W, W);
  }
}

}  // namespace maskbox::cpu

#ifndef MASKBOX_CORE_ONLY
#include "common.h"

namespace maskbox::cpu {
namespace {

/** The cpu kernel behind the shared contract: (plane, block of output rows) tasks on the shared pool. */
void ResizeCpu(const float* data, size_t channels, size_t h, size_t w, size_t H, size_t W, float* out) {
  const LinearTaps<float> tx = MakeTaps<float>(w, W), ty = MakeTaps<float>(h, H);
  // Blocks of >= 64 rows and >= ~256k outputs amortise the two source rows each block re-interpolates;
  // enough blocks for every thread when C is small.
  const size_t min_rows = std::max<size_t>(64, (size_t{1} << 18) / W);
  const size_t want = (4 * pool::Threads() + channels - 1) / channels;
  const size_t blocks = std::max<size_t>(1, std::min(want, H / min_rows));
  const size_t rows_per = (H + blocks - 1) / blocks;
  pool::ParallelFor(channels * blocks, 1, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; t++) {
      const size_t c = t / blocks, b = t % blocks;
      const size_t y0 = b * rows_per, y1 = std::min(H, y0 + rows_per);
      if (y0 < y1) ResizeRows(data, h, w, out, H, W, tx, ty, c, y0, y1);
    }
  });
}

class ResizeWorker : public Worker {
 public:
  using Worker::Worker;
  ResizeKernel kernel = nullptr;
  View<const float> data;
  View<float> out;
  size_t channels = 0, h = 0, w = 0, H = 0, W = 0;

  void Run() override { kernel(data.data, channels, h, w, H, W, out.data); }
};

}  // namespace

/** Checks the resize arguments and runs `kernel` (the cpu one or the CUDA one) on the pool's worker. */
Napi::Value JsResizeWith(const Napi::CallbackInfo& info, ResizeKernel kernel, const char* op) {
  Args args(info, op);
  auto data = args.Float32("data"), out = args.Float32("out");
  const int64_t kMax = INT32_MAX;
  const size_t channels = static_cast<size_t>(args.Integer("channels", 1, kMax));
  const size_t h = static_cast<size_t>(args.Integer("inHeight", 1, kMax));
  const size_t w = static_cast<size_t>(args.Integer("inWidth", 1, kMax));
  const size_t H = static_cast<size_t>(args.Integer("outHeight", 1, kMax));
  const size_t W = static_cast<size_t>(args.Integer("outWidth", 1, kMax));
  size_t n_in = 0, n_out = 0;
  try {
    n_in = CheckedMul(channels, CheckedMul(h, w));
    n_out = CheckedMul(channels, CheckedMul(H, W));
  } catch (const std::overflow_error&) {
    args.RangeFail("channels", "a shape whose element count fits in memory", "an overflowing shape");
  }
  args.Length("data", data.ElementLength(), n_in, "a Float32Array of length channels * inHeight * inWidth");
  args.Length("out", out.ElementLength(), n_out, "a Float32Array of length channels * outHeight * outWidth");
  const char* a = reinterpret_cast<const char*>(data.Data());
  const char* b = reinterpret_cast<const char*>(out.Data());
  if (n_in && n_out && a < b + n_out * sizeof(float) && b < a + n_in * sizeof(float)) {
    args.RangeFail("out", "an array that does not overlap data", "an overlapping array");
  }
  auto worker = std::make_unique<ResizeWorker>(info.Env(), op);
  worker->kernel = kernel;
  worker->channels = channels;
  worker->h = h;
  worker->w = w;
  worker->H = H;
  worker->W = W;
  worker->data = worker->HoldConst(data);
  worker->out = worker->Hold(out);
  return Worker::Start(std::move(worker));
}

Napi::Value JsResize(const Napi::CallbackInfo& info) { return JsResizeWith(info, ResizeCpu, "resize"); }

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
