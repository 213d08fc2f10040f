// Bilinear resize [C, h, w] -> [C, H, W] float32 on the device (torch F.interpolate, align_corners=False):
// one thread per output element, the taps of cpu/resize.h MakeTaps<float> and the steps of
// math::BilinearF32 (lerp_math.h: along the width on both source rows, then along the height), which the
// cpu kernel does in the same order. Bit-identical to src/backends/js/resize.ts and native/cpu/resize.cc.
#include "maskbox_cuda.h"

#include <stdexcept>

#include "cpu/resize.h"
#include "detail.h"
#include "lerp_math.h"

namespace maskbox::cuda {
namespace {
using namespace detail;

constexpr unsigned kResizeThreads = 256;

__global__ void __launch_bounds__(kResizeThreads) ResizeKernel(const float* in, size_t h, size_t w, size_t H, size_t W, size_t total,
                                                               AxisTaps tx, AxisTaps ty, float* out) {
  for (size_t g = size_t(blockIdx.x) * kResizeThreads + threadIdx.x; g < total; g += size_t(gridDim.x) * kResizeThreads) {
    const size_t x = g % W, y = (g / W) % H, c = g / (W * H);
    out[g] = math::BilinearF32(in + c * h * w, w, ty.i0[y], ty.i1[y], ty.w0[y], ty.w1[y], tx.i0[x], tx.i1[x], tx.w0[x], tx.w1[x]);
  }
}

}  // namespace

void Resize(const float* data, size_t channels, size_t h, size_t w, size_t H, size_t W, float* out) {
  const size_t n_in = channels * h * w, n_out = channels * H * W;
  if (n_in == 0 || n_out == 0) throw std::invalid_argument("resize: empty shape");
  cudaStream_t s = nullptr;
  DeviceTaps tx(cpu::MakeTaps<float>(w, W), s), ty(cpu::MakeTaps<float>(h, H), s);
  DeviceBuffer<float> d_in(n_in), d_out(n_out);
  d_in.Upload(data, n_in, s);
  LAUNCH(ResizeKernel, GridFor(n_out, kResizeThreads), kResizeThreads, 0, s, d_in.get(), h, w, H, W, n_out, tx.view(), ty.view(),
         d_out.get());
  MB_CHECK_LAUNCH("ResizeKernel");
  d_out.Download(out, n_out, s);
  MB_CHECK(cudaStreamSynchronize(s));
}

}  // namespace maskbox::cuda
