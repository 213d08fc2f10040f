// The fused hand-bone post-process on the device: logits [C, h, w] -> bilinear (half-pixel centres,
// taps from cpu/resize.h MakeTaps) -> `logit > cutoff` -> row-major runs -> RLE strings and areas.
// One thread per 32 output pixels computes each pixel with the reference's arithmetic (math::BilinearF32:
// LerpF32 along the width on both source rows, then along the height; lerp_math.h, shared with the CPU)
// and packs the decisions into a word; bitRuns.cu turns the words into runs. The H x W float plane is
// never materialised; only the runs cross to the host. Equal, string for string, to
// src/backends/js/logitsToRle.ts and native/cpu/logitsToRle.cc.
#include "maskbox_cuda.h"

#include <stdexcept>

#include "cpu/resize.h"
#include "detail.h"
#include "lerp_math.h"

namespace maskbox::cuda {
namespace {
using namespace detail;

struct Taps {
  const int32_t *x0, *x1, *y0, *y1;
  const float *wx0, *wx1, *wy0, *wy1;
};

__global__ void __launch_bounds__(256) LogitsBits(const float* data, size_t channels, size_t in_h, size_t in_w, uint32_t out_w, size_t n,
                                                  Taps t, float cutoff, size_t words, uint32_t* bits) {
  const size_t g = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (g >= channels * words) return;
  const size_t c = g / words, j = g % words;
  const float* plane = data + c * in_h * in_w;
  uint32_t word = 0;
  for (uint32_t k = 0; k < 32; k++) {
    const size_t p = j * 32 + k;
    if (p >= n) break;
    const size_t y = p / out_w, x = p % out_w;
    const float v = math::BilinearF32(plane, in_w, t.y0[y], t.y1[y], t.wy0[y], t.wy1[y], t.x0[x], t.x1[x], t.wx0[x], t.wx1[x]);
    word |= static_cast<uint32_t>(v > cutoff) << k;
  }
  bits[g] = word;
}

template <typename T>
void UploadVector(DeviceBuffer<T>& d, const std::vector<T>& h, cudaStream_t s) {
  d.Upload(h.data(), h.size(), s);
}

}  // namespace

std::vector<cpu::ClassRle> LogitsToRle(const cpu::LogitsToRleOptions& o) {
  const size_t C = o.channels, H = o.out_height, W = o.out_width;
  if (C == 0 || o.in_height == 0 || o.in_width == 0 || H == 0 || W == 0) throw std::invalid_argument("empty shape");
  if (H * W > UINT32_MAX) throw std::invalid_argument("outHeight * outWidth must be at most 4294967295");
  cudaStream_t s = nullptr;
  const cpu::LinearTaps<float> tx = cpu::MakeTaps<float>(o.in_width, W), ty = cpu::MakeTaps<float>(o.in_height, H);
  DeviceBuffer<int32_t> x0(W), x1(W), y0(H), y1(H);
  DeviceBuffer<float> wx0(W), wx1(W), wy0(H), wy1(H);
  UploadVector(x0, tx.i0, s);
  UploadVector(x1, tx.i1, s);
  UploadVector(wx0, tx.w0, s);
  UploadVector(wx1, tx.w1, s);
  UploadVector(y0, ty.i0, s);
  UploadVector(y1, ty.i1, s);
  UploadVector(wy0, ty.w0, s);
  UploadVector(wy1, ty.w1, s);
  const size_t n_in = C * o.in_height * o.in_width;
  DeviceBuffer<float> data(n_in);
  data.Upload(o.data, n_in, s);
  const size_t n = H * W, words = (n + 31) / 32;
  DeviceBuffer<uint32_t> bits(C * words);
  const Taps t{x0.get(), x1.get(), y0.get(), y1.get(), wx0.get(), wx1.get(), wy0.get(), wy1.get()};
  LAUNCH(LogitsBits, Blocks(C * words, 256), 256, 0, s, data.get(), C, o.in_height, o.in_width, static_cast<uint32_t>(W), n, t, o.cutoff,
         words, bits.get());
  MB_CHECK_LAUNCH("LogitsBits");
  std::vector<std::vector<uint32_t>> runs;
  BitsToRuns(bits.get(), C, words, &runs, s);
  std::vector<cpu::ClassRle> out(C);
  for (size_t c = 0; c < C; c++) {
    uint64_t area = 0;
    for (size_t k = 1; k < runs[c].size(); k += 2) area += runs[c][k];
    out[c].area = area;
    cpu::FormatRle(runs[c].data(), runs[c].size(), &out[c].text);
  }
  return out;
}

}  // namespace maskbox::cuda
