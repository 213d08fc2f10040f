// IoU matrix on the CPU: out[i * nB + j] = IoU(a[i], b[j]) in float32 (see iou.h).
// JS: addon.iou({ a, b, out }) -> Promise<void>; `out` is a Float32Array [nA * nB] allocated in JS.
#include "cpu/iou.h"

#include "common.h"
#include "pool.h"

namespace maskbox::cpu {

void IouRows(const float* a, const float* b, size_t nb, float* out, size_t row_begin, size_t row_end) {
  for (size_t i = row_begin; i < row_end; i++) {
    const float* ai = a + 4 * i;
    const float area_a = (ai[2] - ai[0]) * (ai[3] - ai[1]);
    float* row = out + i * nb;
    for (size_t j = 0; j < nb; j++) {
      const float* bj = b + 4 * j;
      row[j] = IouF32(ai, area_a, bj, (bj[2] - bj[0]) * (bj[3] - bj[1]));
    }
  }
}

namespace {

class IouWorker : public Worker {
 public:
  using Worker::Worker;
  View<const float> a, b;
  View<float> out;

  void Run() override {
    const size_t na = a.length / 4, nb = b.length / 4;
    // Parallel only when the matrix is large: ~64k pairs per chunk at least.
    const size_t grain = nb == 0 ? na : std::max<size_t>(1, (size_t{1} << 16) / nb);
    pool::ParallelFor(na, grain, [&](size_t begin, size_t end) { IouRows(a.data, b.data, nb, out.data, begin, end); });
  }
};

}  // namespace

Napi::Value JsIou(const Napi::CallbackInfo& info) {
  Args args(info, "iou");
  auto a = args.Float32("a"), b = args.Float32("b"), out = args.Float32("out");
  args.MultipleOf("a", a.ElementLength(), 4, "a Float32Array whose length is a multiple of 4");
  args.MultipleOf("b", b.ElementLength(), 4, "a Float32Array whose length is a multiple of 4");
  size_t cells = 0;
  try {
    cells = CheckedMul(a.ElementLength() / 4, b.ElementLength() / 4);
  } catch (const std::overflow_error&) {
    args.RangeFail("a", "box counts whose product fits in memory", "too many boxes");
  }
  args.Length("out", out.ElementLength(), cells, "a Float32Array of length nA * nB");
  auto w = std::make_unique<IouWorker>(info.Env(), "iou");
  w->a = w->HoldConst(a);
  w->b = w->HoldConst(b);
  w->out = w->Hold(out);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
