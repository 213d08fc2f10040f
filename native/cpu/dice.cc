// Dice counts on masks: per image and class, |pred ∩ truth|, |pred|, |truth| of two [C, H, W] uint8
// masks (non-zero = 1), 16 bytes a step (SSE2 compare-to-zero, byte counters folded with psadbw every
// 255 steps), images x classes x pieces in parallel. Equals src/backends/js/dice.ts (integer counts).
// JS: addon.dice({ pred: Uint8Array[], truth: Uint8Array[], classes, pixels, out }) -> Promise<void>
//   pred[i], truth[i]: [classes * pixels]; out: Float64Array [images * classes * 3] allocated in JS.
#include <algorithm>
#include <cstring>

#include "cpu/rle.h"
#include "pool.h"

#if defined(__SSE2__) && !defined(MASKBOX_NO_SIMD)
#include <emmintrin.h>
#define MASKBOX_DICE_SSE2 1
#endif

namespace maskbox::cpu {

OverlapCounts CountOverlap(const uint8_t* a, const uint8_t* b, size_t n) {
  // Count zero bytes: |a| = n - zeros(a), |b| = n - zeros(b), |a ∩ b| = n - |zeros(a) ∪ zeros(b)|.
  uint64_t za = 0, zb = 0, zab = 0;
  size_t i = 0;
#ifdef MASKBOX_DICE_SSE2
  const __m128i z = _mm_setzero_si128();
  const auto fold = [&](__m128i bytes) {
    const __m128i s = _mm_sad_epu8(bytes, z);
    return static_cast<uint64_t>(_mm_cvtsi128_si64(s)) + static_cast<uint64_t>(_mm_cvtsi128_si64(_mm_unpackhi_epi64(s, s)));
  };
  while (i + 16 <= n) {
    const size_t steps = std::min<size_t>((n - i) / 16, 255);  // byte counters hold 255
    __m128i ca = z, cb = z, cab = z;
    for (size_t s = 0; s < steps; s++, i += 16) {
      const __m128i ea = _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i)), z);
      const __m128i eb = _mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i)), z);
      ca = _mm_sub_epi8(ca, ea);  // ea is -1 where a is zero
      cb = _mm_sub_epi8(cb, eb);
      cab = _mm_sub_epi8(cab, _mm_or_si128(ea, eb));
    }
    za += fold(ca);
    zb += fold(cb);
    zab += fold(cab);
  }
#else
  // Portable: 8 bytes a word, high bit of each byte set where the byte is non-zero.
  constexpr uint64_t kLo = 0x7f7f7f7f7f7f7f7fULL, kHi = 0x8080808080808080ULL;
  for (; i + 8 <= n; i += 8) {
    uint64_t x, y;
    std::memcpy(&x, a + i, 8);
    std::memcpy(&y, b + i, 8);
    const uint64_t mx = (((x & kLo) + kLo) | x) & kHi, my = (((y & kLo) + kLo) | y) & kHi;
    za += 8 - static_cast<uint64_t>(__builtin_popcountll(mx));
    zb += 8 - static_cast<uint64_t>(__builtin_popcountll(my));
    zab += 8 - static_cast<uint64_t>(__builtin_popcountll(mx & my));
  }
#endif
  for (; i < n; i++) {
    za += a[i] == 0;
    zb += b[i] == 0;
    zab += a[i] == 0 || b[i] == 0;
  }
  return {n - zab, n - za, n - zb};
}

}  // namespace maskbox::cpu

// ---- N-API binding (left out of the fuzz build, which defines MASKBOX_CORE_ONLY) ----
#ifndef MASKBOX_CORE_ONLY
#include "cpu/rleNapi.h"

namespace maskbox::cpu {
namespace {

/** Channels are counted in pieces of this many bytes in parallel. */
constexpr size_t kPiece = size_t{1} << 21;

class DiceWorker : public Worker {
 public:
  using Worker::Worker;
  std::vector<View<const uint8_t>> pred, truth;
  size_t classes = 0, pixels = 0;
  View<double> out;

  DiceKernel kernel = nullptr;  // set: it computes the counts (the cuda build)

  void Run() override {
    if (kernel) {
      std::vector<const uint8_t*> p(pred.size()), t(truth.size());
      for (size_t i = 0; i < p.size(); i++) {
        p[i] = pred[i].data;
        t[i] = truth[i].data;
      }
      kernel(p.data(), t.data(), p.size(), classes, pixels, out.data);
      return;
    }
    const size_t pairs = pred.size() * classes;
    const size_t pieces = pixels == 0 ? 1 : (pixels + kPiece - 1) / kPiece;
    std::vector<OverlapCounts> part(pairs * pieces);
    pool::ParallelFor(pairs * pieces, 1, [&](size_t begin, size_t end) {
      for (size_t it = begin; it < end; it++) {
        const size_t pair = it / pieces, img = pair / classes, c = pair % classes;
        const size_t from = (it % pieces) * kPiece, len = std::min(kPiece, pixels - std::min(pixels, from));
        const size_t off = c * pixels + from;
        part[it] = CountOverlap(pred[img].data + off, truth[img].data + off, len);
      }
    });
    for (size_t pair = 0; pair < pairs; pair++) {
      OverlapCounts s;
      for (size_t p = 0; p < pieces; p++) {
        s.inter += part[pair * pieces + p].inter;
        s.a += part[pair * pieces + p].a;
        s.b += part[pair * pieces + p].b;
      }
      out[3 * pair] = static_cast<double>(s.inter);
      out[3 * pair + 1] = static_cast<double>(s.a);
      out[3 * pair + 2] = static_cast<double>(s.b);
    }
  }
};

}  // namespace

// The binding with a given counting kernel (the cuda build passes its own: native/cuda/addon_cuda.cc).
Napi::Value JsDiceWith(const Napi::CallbackInfo& info, DiceKernel kernel, const char* op);

Napi::Value JsDice(const Napi::CallbackInfo& info) { return JsDiceWith(info, nullptr, "dice"); }

Napi::Value JsDiceWith(const Napi::CallbackInfo& info, DiceKernel kernel, const char* op) {
  Args args(info, op);
  Napi::Object o = Options(info);
  auto w = std::make_unique<DiceWorker>(info.Env(), op);
  w->kernel = kernel;
  w->pred = HoldArrays<uint8_t>(w.get(), args, o, "pred", napi_uint8_array, "Uint8Array", UINT32_MAX);
  w->truth = HoldArrays<uint8_t>(w.get(), args, o, "truth", napi_uint8_array, "Uint8Array", UINT32_MAX);
  if (w->truth.size() != w->pred.size()) {
    args.RangeFail("truth", "as many images as pred (" + std::to_string(w->pred.size()) + ")",
                   std::to_string(w->truth.size()));
  }
  w->pixels = static_cast<size_t>(args.Integer("pixels", 0, UINT32_MAX));
  // With no pixels nothing bounds classes by memory; cap it so `out` stays small.
  w->classes = static_cast<size_t>(args.Integer("classes", 0, w->pixels == 0 ? 65536 : UINT32_MAX));
  size_t per = 0, cells = 0;
  try {
    per = CheckedMul(w->classes, w->pixels);
    cells = CheckedMul(CheckedMul(w->pred.size(), w->classes), 3);
  } catch (const std::overflow_error&) {
    args.RangeFail("classes", "classes * pixels that fits in memory", std::to_string(w->classes));
  }
  for (size_t i = 0; i < w->pred.size(); i++) {
    args.Length(("pred[" + std::to_string(i) + "]").c_str(), w->pred[i].length, per,
                "a Uint8Array of length classes * pixels");
    args.Length(("truth[" + std::to_string(i) + "]").c_str(), w->truth[i].length, per,
                "a Uint8Array of length classes * pixels");
  }
  auto out = Float64Value(args, o, "out");
  args.Length("out", out.ElementLength(), cells, "a Float64Array of length images * classes * 3");
  w->out = w->Hold(out);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
