// The stream-read floor for benchmarks/rle.bench.ts: reads every byte of a buffer once (64 bytes a
// step, OR-reduced), in parallel pieces on the same pool as the RLE and Dice kernels, so that their
// times can be shown as ratios to "the cheapest thing any kernel reading this mask must do".
// JS: addon.readFloor({ mask: Uint8Array }) -> Promise<number> (the OR of all bytes, so nothing is elided).
#include <algorithm>
#include <atomic>
#include <cstring>

#include "cpu/rle.h"
#include "pool.h"

namespace maskbox::cpu {

uint8_t ReadAll(const uint8_t* m, size_t n) {
  uint64_t acc[8] = {0, 0, 0, 0, 0, 0, 0, 0};
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    uint64_t w[8];
    std::memcpy(w, m + i, 64);
    for (int k = 0; k < 8; k++) acc[k] |= w[k];
  }
  uint64_t r = 0;
  for (int k = 0; k < 8; k++) r |= acc[k];
  for (; i < n; i++) r |= m[i];
  for (int s = 32; s >= 8; s /= 2) r |= r >> s;
  return static_cast<uint8_t>(r);
}

}  // namespace maskbox::cpu

// ---- N-API binding (left out of the fuzz build, which defines MASKBOX_CORE_ONLY) ----
#ifndef MASKBOX_CORE_ONLY
#include "cpu/rleNapi.h"

namespace maskbox::cpu {
namespace {

constexpr size_t kPiece = size_t{1} << 21;

class ReadFloorWorker : public Worker {
 public:
  using Worker::Worker;
  View<const uint8_t> mask;
  std::atomic<uint32_t> result{0};

  void Run() override {
    const size_t pieces = (mask.length + kPiece - 1) / kPiece;
    pool::ParallelFor(pieces, 1, [&](size_t begin, size_t end) {
      uint8_t r = 0;
      for (size_t p = begin; p < end; p++) {
        const size_t from = p * kPiece;
        r |= ReadAll(mask.data + from, std::min(kPiece, mask.length - from));
      }
      result.fetch_or(r);
    });
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, result.load()); }
};

}  // namespace

Napi::Value JsReadFloor(const Napi::CallbackInfo& info) {
  Args args(info, "readFloor");
  auto w = std::make_unique<ReadFloorWorker>(info.Env(), "readFloor");
  w->mask = w->HoldConst(args.Uint8("mask"));
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
