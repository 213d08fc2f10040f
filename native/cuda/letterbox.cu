// Fused letterbox on the device: uint8/uint16 HWC (1, 3 or 4 channels) -> bilinear resize -> normalise ->
// pad -> CHW float32 [3, outHeight, outWidth], one thread per output pixel (its 3 channel samples), no
// intermediate image. The float64 taps of cpu/resize.h MakeTaps<double> and the float64 steps of
// math::LetterboxBilinear / LetterboxUnit (lerp_math.h, shared with native/cpu/letterbox.cc), one
// rounding to float32: bit-identical to src/backends/js/letterbox.ts. Each output channel has its own
// (low, range) (cpu/letterbox.h ResolveLevels, on the host): the levels handed in, or the pooled
// percentile stretch on all three, whose histogram is counted on the device (global atomics; integer
// counts, so any order gives the same histogram) and whose percentiles come from it on the host
// (cpu/histPercentile.h, numpy's linear method).
#include "maskbox_cuda.h"

#include <stdexcept>

#include "cpu/histPercentile.h"
#include "cpu/resize.h"
#include "detail.h"
#include "lerp_math.h"

namespace maskbox::cuda {
namespace {
using namespace detail;

constexpr unsigned kLetterboxThreads = 256;

struct Geometry {
  size_t channels, row_stride, new_width, new_height, left, top, out_width, out_height;
  cpu::ChannelLevels levels;  // per output channel (R, G, B)
  float pad;
};

template <typename T>
__global__ void __launch_bounds__(kLetterboxThreads) LetterboxKernel(const T* src, Geometry g, AxisTapsOf<double> tx, AxisTapsOf<double> ty,
                                                                     float* out) {
  const size_t plane = g.out_width * g.out_height;
  for (size_t p = size_t(blockIdx.x) * kLetterboxThreads + threadIdx.x; p < plane; p += size_t(gridDim.x) * kLetterboxThreads) {
    const size_t oy = p / g.out_width, ox = p % g.out_width;
    // Unsigned wrap-around: rows above / columns left of the image give huge values, outside too.
    const size_t y = oy - g.top, x = ox - g.left;
    if (y >= g.new_height || x >= g.new_width) {
      out[p] = out[plane + p] = out[2 * plane + p] = g.pad;
      continue;
    }
    const size_t r0 = size_t(ty.i0[y]) * g.row_stride, r1 = size_t(ty.i1[y]) * g.row_stride;
    const size_t c0 = size_t(tx.i0[x]) * g.channels, c1 = size_t(tx.i1[x]) * g.channels;
    const double wy0 = ty.w0[y], wy1 = ty.w1[y], wx0 = tx.w0[x], wx1 = tx.w1[x];
    const size_t colours = g.channels == 1 ? 1 : 3;
    float v[3];
    for (size_t c = 0; c < colours; c++) {
      const double s = math::LetterboxBilinear(src, r0 + c, r1 + c, wy0, wy1, c0, c1, wx0, wx1, g.levels.low[c]);
      v[c] = static_cast<float>(math::LetterboxUnit(s, g.levels.range[c]));
    }
    if (colours == 1) v[1] = v[2] = v[0];  // grey replicated to RGB
    out[p] = v[0];
    out[plane + p] = v[1];
    out[2 * plane + p] = v[2];
  }
}

// Histogram of the colour samples (alpha skipped) of `pixels` pixels.
template <typename T>
__global__ void __launch_bounds__(kLetterboxThreads) HistogramKernel(const T* src, size_t pixels, size_t channels, unsigned* hist) {
  const size_t colours = channels == 4 ? 3 : channels;
  for (size_t p = size_t(blockIdx.x) * kLetterboxThreads + threadIdx.x; p < pixels; p += size_t(gridDim.x) * kLetterboxThreads) {
    for (size_t c = 0; c < colours; c++) atomicAdd(&hist[src[p * channels + c]], 1u);
  }
}

// Letterboxes into d_out (device memory, 3 * out_height * out_width floats) on stream s, synchronised.
template <typename T>
void Run(const T* host, const LetterboxParams& o, float* d_out, double* low_out, double* high_out, cudaStream_t s) {
  if (o.channels != 1 && o.channels != 3 && o.channels != 4) throw std::invalid_argument("letterbox: channels must be 1, 3 or 4");
  if (o.new_width == 0 || o.new_height == 0 || o.new_width + o.left > o.out_width || o.new_height + o.top > o.out_height) {
    throw std::invalid_argument("letterbox: the image does not fit the output");
  }
  const size_t pixels = o.width * o.height, samples = pixels * o.channels;
  if (samples == 0) throw std::invalid_argument("letterbox: empty image");
  DeviceBuffer<T> src(samples);
  CopyToDevice(src.get(), host, samples * sizeof(T), s);
  const size_t max_value = sizeof(T) == 1 ? 255 : 65535;
  double low = 0, high = 0;  // the pooled percentile values
  if (o.stretch) {
    const size_t bins = max_value + 1;
    DeviceBuffer<unsigned> hist(bins);
    MB_CHECK(cudaMemsetAsync(hist.get(), 0, bins * sizeof(unsigned), s));
    LAUNCH((HistogramKernel<T>), GridFor(pixels, kLetterboxThreads), kLetterboxThreads, 0, s, src.get(), pixels, o.channels, hist.get());
    MB_CHECK_LAUNCH("HistogramKernel");
    std::vector<unsigned> h(bins);
    hist.Download(h.data(), bins, s);
    MB_CHECK(cudaStreamSynchronize(s));
    const double colours = static_cast<double>(o.channels == 4 ? 3 : o.channels);
    cpu::HistogramPercentiles(h.data(), bins, static_cast<double>(pixels) * colours, o.q_low, o.q_high, &low, &high);
  }
  const Geometry g{o.channels, o.width * o.channels, o.new_width, o.new_height, o.left, o.top, o.out_width, o.out_height,
                   cpu::ResolveLevels(o, low, high, low_out, high_out), static_cast<float>(o.pad)};
  DeviceTapsOf<double> tx(cpu::MakeTaps<double>(o.width, o.new_width), s), ty(cpu::MakeTaps<double>(o.height, o.new_height), s);
  LAUNCH((LetterboxKernel<T>), GridFor(o.out_width * o.out_height, kLetterboxThreads), kLetterboxThreads, 0, s, src.get(), g, tx.view(),
         ty.view(), d_out);
  MB_CHECK_LAUNCH("LetterboxKernel");
  MB_CHECK(cudaStreamSynchronize(s));
}

void RunAny(const LetterboxParams& o, float* d_out, double* low, double* high, cudaStream_t s) {
  if (o.sixteen) Run(static_cast<const uint16_t*>(o.data), o, d_out, low, high, s);
  else Run(static_cast<const uint8_t*>(o.data), o, d_out, low, high, s);
}

}  // namespace

void Letterbox(const LetterboxParams& o, float* out, double* low, double* high) {
  Stream s;
  const size_t n_out = 3 * o.out_width * o.out_height;
  DeviceBuffer<float> d_out(n_out);
  RunAny(o, d_out.get(), low, high, s.get());
  CopyToHost(out, d_out.get(), n_out * sizeof(float), s.get());
}

void LetterboxToDevice(const LetterboxParams& o, Tensor& out, double* low, double* high) {
  if (out.length() != 3 * o.out_width * o.out_height) throw std::length_error("letterbox: the device tensor is not 3 * outHeight * outWidth");
  Stream s;
  RunAny(o, out.data(), low, high, s.get());
}

}  // namespace maskbox::cuda
