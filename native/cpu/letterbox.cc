// Fused letterbox: uint8/uint16 HWC (1, 3 or 4 channels) -> bilinear resize -> normalise -> pad ->
// CHW float32 [3, outHeight, outWidth], in one pass over the output (no intermediate image), output rows
// split over the shared pool. Bit-identical to src/backends/js/letterbox.ts: the same float64 taps
// (`MakeTaps<double>`), the same float64 operations in the same order per sample (`letterboxSample`),
// one rounding to float32, whether a pixel goes through the scalar path or the AVX2 one (RGB/RGBA, where
// the vector lanes are the channels). Each output channel has its own (low, range) (`ResolveLevels`,
// letterbox.h): the levels handed in, or the pooled percentile stretch on all three, from the channels'
// histograms (channelPercentiles.h) summed and numpy's linear interpolation, as `imagePercentiles`.
// JS: addon.letterbox({ data, maxValue, width, height, channels, newWidth, newHeight, left, top, outWidth,
//   outHeight, pad, stretch, percentileLow, percentileHigh, levelLow, levelHigh, out }) -> Promise<{ low, high }>
// `data` is a Uint8Array when maxValue is 255, a Uint16Array when it is 65535; `levelLow`/`levelHigh` are
// Float64Arrays of 3 (per output channel); `out` is allocated in JS.
#include <cmath>
#include <cstring>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#endif

#include "cpu/channelPercentiles.h"
#include "cpu/histPercentile.h"
#include "cpu/letterbox.h"
#include "cpu/resize.h"
#include "pool.h"

namespace maskbox::cpu {

namespace {

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(MASKBOX_SANITIZE)
#define MASKBOX_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MASKBOX_CLONES
#endif

// letterboxSample, split in two so that the second half vectorises: Bilinear() is the interpolation
// (width first, then height) of the four samples at r + c, minus the channel's `low`; Normalise() is
// `/ range` (the channel's) and the clamp to [0, 1]. The same double operations in the same order as the JS, one rounding to float32.
template <typename T>
inline double Bilinear(const T* src, size_t r0, size_t r1, double wy0, double wy1, size_t c0, size_t c1, double wx0,
                       double wx1, double low) {
  return math::LetterboxBilinear(src, r0, r1, wy0, wy1, c0, c1, wx0, wx1, low);  // shared with native/cuda
}

MASKBOX_CLONES
void Normalise(double* __restrict v, size_t n, double range, float* __restrict out) {
  // `u <= 0 ? 0 : u >= 1 ? 1 : u` as two selects (equal for every non-NaN u, -0 -> +0 included), in place
  // and then converted in a second loop: GCC 12 vectorises these two loops, not the fused one.
  for (size_t x = 0; x < n; x++) v[x] = math::LetterboxUnit(v[x], range);
  for (size_t x = 0; x < n; x++) out[x] = static_cast<float>(v[x]);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define MASKBOX_LETTERBOX_AVX2 1
// AVX2 path for 3- and 4-channel pixels: one load brings a pixel's R, G, B (and one more sample) into
// the four lanes of a double vector, so the lanes are the channels and every lane does exactly the
// scalar path's double operations in the same order (no FMA: separate _mm256_mul_pd/_mm256_add_pd);
// max/min implement the clamp (MAXPD(u, 0) is `u > 0 ? u : 0`, so -0 becomes +0 as in JS). The fourth
// lane reads one sample past the pixel: pixels where that would pass the end of `src` (at most the last
// of the image) are left to the scalar path; its lane gets low 0 and range 1. Returns how many leading
// pixels of the row it wrote.
template <typename T>
__attribute__((target("avx2"))) inline __m256d LoadPixel(const T* p) {
  if constexpr (sizeof(T) == 1) {
    int32_t word;
    std::memcpy(&word, p, 4);
    return _mm256_cvtepi32_pd(_mm_cvtepu8_epi32(_mm_cvtsi32_si128(word)));
  } else {
    return _mm256_cvtepi32_pd(_mm_cvtepu16_epi32(_mm_loadl_epi64(reinterpret_cast<const __m128i*>(p))));
  }
}

template <typename T>
__attribute__((target("avx2"))) size_t RgbRowAvx2(const T* src, size_t n_samples, size_t r0, size_t r1, double wy0,
                                                  double wy1, const size_t* cx0, const size_t* cx1, const double* w0,
                                                  const double* w1, size_t n, const ChannelLevels& lv, float* R,
                                                  float* G, float* B) {
  const __m256d vwy0 = _mm256_set1_pd(wy0), vwy1 = _mm256_set1_pd(wy1);
  const __m256d vlow = _mm256_set_pd(0.0, lv.low[2], lv.low[1], lv.low[0]);  // lanes R, G, B, spare
  const __m256d vrange = _mm256_set_pd(1.0, lv.range[2], lv.range[1], lv.range[0]);
  const __m256d zero = _mm256_setzero_pd(), one = _mm256_set1_pd(1.0);
  size_t x = 0;
  for (; x < n && r1 + cx1[x] + 4 <= n_samples; x++) {
    const __m256d a = _mm256_set1_pd(w0[x]), b = _mm256_set1_pd(w1[x]);
    const __m256d top = _mm256_add_pd(_mm256_mul_pd(a, LoadPixel(src + r0 + cx0[x])),
                                      _mm256_mul_pd(b, LoadPixel(src + r0 + cx1[x])));
    const __m256d bottom = _mm256_add_pd(_mm256_mul_pd(a, LoadPixel(src + r1 + cx0[x])),
                                         _mm256_mul_pd(b, LoadPixel(src + r1 + cx1[x])));
    const __m256d v = _mm256_sub_pd(_mm256_add_pd(_mm256_mul_pd(vwy0, top), _mm256_mul_pd(vwy1, bottom)), vlow);
    const __m256d u = _mm256_min_pd(_mm256_max_pd(_mm256_div_pd(v, vrange), zero), one);
    alignas(16) float f[4];
    _mm_store_ps(f, _mm256_cvtpd_ps(u));
    R[x] = f[0];
    G[x] = f[1];
    B[x] = f[2];
  }
  return x;
}

bool HasAvx2() {
  static const bool yes = __builtin_cpu_supports("avx2");
  return yes;
}
#endif

// Output rows [y_begin, y_end) of the resized image (rows of the output at top + y).
template <typename T>
void LetterboxRows(const T* src, size_t n_samples, const LetterboxParams& o, const ChannelLevels& lv,
                   const LinearTaps<double>& tx, const LinearTaps<double>& ty, const std::vector<size_t>& cx0,
                   const std::vector<size_t>& cx1, float* out, size_t y_begin, size_t y_end) {
  const size_t row_stride = o.width * o.channels;
  const size_t plane = o.out_width * o.out_height;
  const size_t n = o.new_width;
  const bool rgb = o.channels > 1;
  std::vector<double> buf(3 * n);
  double* vr = buf.data();
  double* vg = vr + n;
  double* vb = vg + n;
  for (size_t y = y_begin; y < y_end; y++) {
    const size_t r0 = size_t(ty.i0[y]) * row_stride, r1 = size_t(ty.i1[y]) * row_stride;
    const double wy0 = ty.w0[y], wy1 = ty.w1[y];
    float* R = out + (o.top + y) * o.out_width + o.left;
    if (rgb) {
      size_t x0 = 0;  // pixels [0, x0) done by the AVX2 path
#ifdef MASKBOX_LETTERBOX_AVX2
      if (HasAvx2()) {
        x0 = RgbRowAvx2(src, n_samples, r0, r1, wy0, wy1, cx0.data(), cx1.data(), tx.w0.data(), tx.w1.data(), n, lv,
                       R, R + plane, R + 2 * plane);
        if (x0 == n) continue;
      }
#endif
      for (size_t x = x0; x < n; x++) {
        const size_t c0 = cx0[x], c1 = cx1[x];
        const double wx0 = tx.w0[x], wx1 = tx.w1[x];
        vr[x] = Bilinear(src, r0, r1, wy0, wy1, c0, c1, wx0, wx1, lv.low[0]);
        vg[x] = Bilinear(src, r0 + 1, r1 + 1, wy0, wy1, c0, c1, wx0, wx1, lv.low[1]);
        vb[x] = Bilinear(src, r0 + 2, r1 + 2, wy0, wy1, c0, c1, wx0, wx1, lv.low[2]);
      }
      Normalise(vr + x0, n - x0, lv.range[0], R + x0);
      Normalise(vg + x0, n - x0, lv.range[1], R + plane + x0);
      Normalise(vb + x0, n - x0, lv.range[2], R + 2 * plane + x0);
    } else {
      for (size_t x = 0; x < n; x++)
        vr[x] = Bilinear(src, r0, r1, wy0, wy1, cx0[x], cx1[x], tx.w0[x], tx.w1[x], lv.low[0]);
      Normalise(vr, n, lv.range[0], R);
      std::copy(R, R + n, R + plane);
      std::copy(R, R + n, R + 2 * plane);
    }
  }
}

// numpy.percentile(colour samples, q), method 'linear', pooled over the colour channels (imagePercentiles in JS).
template <typename T>
void PooledPercentiles(const T* src, size_t n_samples, size_t channels, size_t max_value, double q_low, double q_high,
                       double* low, double* high) {
  const std::vector<uint64_t> per_channel = ChannelHistograms(src, n_samples, channels, max_value);
  const size_t bins = max_value + 1, colour = ColourChannels(channels);
  std::vector<uint64_t> hist(bins, 0);
  for (size_t c = 0; c < colour; c++)
    for (size_t v = 0; v < bins; v++) hist[v] += per_channel[c * bins + v];
  const double n = static_cast<double>(n_samples / channels) * static_cast<double>(colour);
  HistogramPercentiles(hist.data(), bins, n, q_low, q_high, low, high);
}

// The whole kernel on `n_samples` samples of type T (uint8: max 255, uint16: max 65535), o.data ignored.
template <typename T>
void Letterbox(const T* src, size_t n_samples, const LetterboxParams& o, float* out, double* low_out,
               double* high_out) {
  double pooled_low = 0, pooled_high = 0;
  if (o.stretch) {
    const size_t max_value = sizeof(T) == 1 ? 255 : 65535;
    PooledPercentiles(src, n_samples, o.channels, max_value, o.q_low, o.q_high, &pooled_low, &pooled_high);
  }
  const ChannelLevels lv = ResolveLevels(o, pooled_low, pooled_high, low_out, high_out);

  const LinearTaps<double> tx = MakeTaps<double>(o.width, o.new_width), ty = MakeTaps<double>(o.height, o.new_height);
  std::vector<size_t> cx0(o.new_width), cx1(o.new_width);
  for (size_t x = 0; x < o.new_width; x++) {
    cx0[x] = size_t(tx.i0[x]) * o.channels;
    cx1[x] = size_t(tx.i1[x]) * o.channels;
  }
  const float pad = static_cast<float>(o.pad);
  const size_t plane = o.out_width * o.out_height;
  const size_t right = o.out_width - o.left - o.new_width;
  // Every output row: padding where the image is not, image rows in between. ~32k outputs per chunk.
  const size_t grain = std::max<size_t>(1, (size_t{1} << 15) / o.out_width);
  pool::ParallelFor(o.out_height, grain, [&](size_t begin, size_t end) {
    for (size_t oy = begin; oy < end; oy++) {
      for (size_t c = 0; c < 3; c++) {
        float* row = out + c * plane + oy * o.out_width;
        if (oy < o.top || oy >= o.top + o.new_height) {
          std::fill(row, row + o.out_width, pad);
        } else {
          std::fill(row, row + o.left, pad);
          std::fill(row + o.left + o.new_width, row + o.left + o.new_width + right, pad);
        }
      }
    }
    const size_t y0 = std::max(begin, o.top), y1 = std::min(end, o.top + o.new_height);
    if (y0 < y1) LetterboxRows(src, n_samples, o, lv, tx, ty, cx0, cx1, out, y0 - o.top, y1 - o.top);
  });
}

}  // namespace
}  // namespace maskbox::cpu

#ifndef MASKBOX_CORE_ONLY
#include "common.h"

namespace maskbox::cpu {
namespace {

class LetterboxWorker : public Worker {
 public:
  using Worker::Worker;
  LetterboxKernel kernel = nullptr;
  LetterboxParams params;
  View<float> out;
  double low = 0, high = 0;

  void Run() override { kernel(params, out.data, &low, &high); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("low", low);
    o.Set("high", high);
    return o;
  }
};

/** The cpu kernel behind the shared contract: the pooled, vectorised Letterbox above. */
void LetterboxCpu(const LetterboxParams& p, float* out, double* low, double* high) {
  const size_t samples = p.width * p.height * p.channels;  // checked for overflow by the binding
  if (p.sixteen) Letterbox(static_cast<const uint16_t*>(p.data), samples, p, out, low, high);
  else Letterbox(static_cast<const uint8_t*>(p.data), samples, p, out, low, high);
}

}  // namespace

/**
 * Checks every letterbox argument but the output and holds `data` in `w`; returns the input's size in
 * bytes. Shared by JsLetterboxWith and the CUDA binding that leaves its output on the device
 * (native/cuda/addon_tensor.cc).
 */
size_t ReadLetterboxParams(const Args& args, Worker* w, LetterboxParams* params) {
  LetterboxParams& o = *params;
  const int64_t kMax = INT32_MAX;
  const int64_t max_value = args.Integer("maxValue", 255, 65535);
  if (max_value != 255 && max_value != 65535) args.RangeFail("maxValue", "255 or 65535", std::to_string(max_value));
  o.width = static_cast<size_t>(args.Integer("width", 1, kMax));
  o.height = static_cast<size_t>(args.Integer("height", 1, kMax));
  o.channels = static_cast<size_t>(args.Integer("channels", 1, 4));
  if (o.channels == 2) args.RangeFail("channels", "1, 3 or 4", "2");
  o.new_width = static_cast<size_t>(args.Integer("newWidth", 1, kMax));
  o.new_height = static_cast<size_t>(args.Integer("newHeight", 1, kMax));
  o.out_width = static_cast<size_t>(args.Integer("outWidth", 1, kMax));
  o.out_height = static_cast<size_t>(args.Integer("outHeight", 1, kMax));
  if (o.new_width > o.out_width) args.RangeFail("newWidth", "at most outWidth", std::to_string(o.new_width));
  if (o.new_height > o.out_height) args.RangeFail("newHeight", "at most outHeight", std::to_string(o.new_height));
  o.left = static_cast<size_t>(args.Integer("left", 0, static_cast<int64_t>(o.out_width - o.new_width)));
  o.top = static_cast<size_t>(args.Integer("top", 0, static_cast<int64_t>(o.out_height - o.new_height)));
  o.pad = args.Number("pad", -INFINITY, INFINITY);
  o.stretch = args.Boolean("stretch");
  if (o.stretch) {
    o.q_low = args.Number("percentileLow", 0, 100);
    o.q_high = args.Number("percentileHigh", 0, 100);
    if (!(o.q_low < o.q_high)) args.RangeFail("percentileHigh", "a value above percentileLow", std::to_string(o.q_high));
  }
  // Levels per output channel (read always: one code path in the kernels, stretch or not).
  const auto level_low = args.Float64("levelLow"), level_high = args.Float64("levelHigh");
  args.Length("levelLow", level_low.ElementLength(), 3, "a Float64Array of levels for R, G and B");
  args.Length("levelHigh", level_high.ElementLength(), 3, "a Float64Array of levels for R, G and B");
  for (size_t c = 0; c < 3; c++) {
    o.level_low[c] = level_low[c];
    o.level_high[c] = level_high[c];
    if (!std::isfinite(o.level_low[c])) args.RangeFail("levelLow", "finite levels", std::to_string(o.level_low[c]));
    if (!std::isfinite(o.level_high[c])) args.RangeFail("levelHigh", "finite levels", std::to_string(o.level_high[c]));
  }
  size_t samples = 0;
  try {
    samples = CheckedMul(CheckedMul(o.width, o.height), o.channels);
    (void)CheckedMul(CheckedMul(o.out_width, o.out_height), 3);
  } catch (const std::overflow_error&) {
    args.RangeFail("width", "an image whose sample count fits in memory", "an overflowing size");
  }
  if (max_value == 255) {
    auto d = args.Uint8("data");
    args.Length("data", d.ElementLength(), samples, "a Uint8Array of width * height * channels samples");
    o.data = w->HoldConst(d).data;
    return samples;
  }
  auto d = args.Uint16("data");
  args.Length("data", d.ElementLength(), samples, "a Uint16Array of width * height * channels samples");
  o.data = w->HoldConst(d).data;
  o.sixteen = true;
  return samples * 2;
}

/** Checks the letterbox arguments and runs `kernel` (the cpu one or the CUDA one) on the pool's worker. */
Napi::Value JsLetterboxWith(const Napi::CallbackInfo& info, LetterboxKernel kernel, const char* op) {
  Args args(info, op);
  auto w = std::make_unique<LetterboxWorker>(info.Env(), op);
  w->kernel = kernel;
  LetterboxParams& o = w->params;
  const size_t in_bytes = ReadLetterboxParams(args, w.get(), &o);
  const size_t outputs = 3 * o.out_width * o.out_height;  // checked for overflow above
  auto out = args.Float32("out");
  args.Length("out", out.ElementLength(), outputs, "a Float32Array of length 3 * outHeight * outWidth");
  const char* a = static_cast<const char*>(o.data);
  const char* b = reinterpret_cast<const char*>(out.Data());
  if (in_bytes && a < b + outputs * sizeof(float) && b < a + in_bytes) {
    args.RangeFail("out", "an array that does not overlap data", "an overlapping array");
  }
  w->out = w->Hold(out);
  return Worker::Start(std::move(w));
}

Napi::Value JsLetterbox(const Napi::CallbackInfo& info) { return JsLetterboxWith(info, LetterboxCpu, "letterbox"); }

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
