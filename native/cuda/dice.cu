// Dice counts on the device: for every (image, class) pair of two [C, H, W] uint8 masks, |pred ∩ truth|,
// |pred| and |truth| (non-zero = 1). Grid (pieces of a channel, pairs); each thread counts its bytes,
// the block sums them (blockScan.cuh) and one thread adds them to the pair's 64-bit counters. Integer
// counts: equal to src/backends/js/dice.ts and native/cpu/dice.cc exactly. Only 3 numbers per pair
// come back.
#include "maskbox_cuda.h"

#include "blockScan.cuh"
#include "detail.h"

namespace maskbox::cuda {
namespace {
using namespace detail;

constexpr unsigned kDiceThreads = 256;
constexpr size_t kDicePiece = size_t{1} << 16;  // bytes of one channel per block

__global__ void __launch_bounds__(kDiceThreads) DicePairs(const uint8_t* pred, const uint8_t* truth, size_t pixels,
                                                           unsigned long long* counts) {
  __shared__ unsigned warp_sums[32];
  const size_t pair = blockIdx.y, from = size_t(blockIdx.x) * kDicePiece;
  const size_t to = from + kDicePiece < pixels ? from + kDicePiece : pixels;
  const uint8_t* a = pred + pair * pixels;
  const uint8_t* b = truth + pair * pixels;
  unsigned inter = 0, na = 0, nb = 0;
  for (size_t i = from + threadIdx.x; i < to; i += kDiceThreads) {
    const unsigned x = a[i] != 0, y = b[i] != 0;
    inter += x & y;
    na += x;
    nb += y;
  }
  unsigned t_inter, t_a, t_b;  // a piece has at most 2^16 pixels: unsigned sums cannot overflow
  BlockExclusiveScan(inter, warp_sums, &t_inter);
  BlockExclusiveScan(na, warp_sums, &t_a);
  BlockExclusiveScan(nb, warp_sums, &t_b);
  if (threadIdx.x == 0) {
    atomicAdd(&counts[3 * pair], static_cast<unsigned long long>(t_inter));
    atomicAdd(&counts[3 * pair + 1], static_cast<unsigned long long>(t_a));
    atomicAdd(&counts[3 * pair + 2], static_cast<unsigned long long>(t_b));
  }
}

}  // namespace

void DiceCounts(const uint8_t* const* pred, const uint8_t* const* truth, size_t images, size_t classes, size_t pixels, double* out) {
  const size_t pairs = images * classes;
  if (pairs == 0) return;
  if (pixels == 0) {
    for (size_t k = 0; k < 3 * pairs; k++) out[k] = 0;
    return;
  }
  cudaStream_t s = nullptr;
  const size_t per = classes * pixels;
  DeviceBuffer<uint8_t> d_pred(images * per), d_truth(images * per);
  for (size_t i = 0; i < images; i++) {
    MB_CHECK(cudaMemcpyAsync(d_pred.get() + i * per, pred[i], per, cudaMemcpyHostToDevice, s));
    MB_CHECK(cudaMemcpyAsync(d_truth.get() + i * per, truth[i], per, cudaMemcpyHostToDevice, s));
  }
  DeviceBuffer<unsigned long long> counts(3 * pairs);
  MB_CHECK(cudaMemsetAsync(counts.get(), 0, 3 * pairs * sizeof(unsigned long long), s));
  const size_t pieces = (pixels + kDicePiece - 1) / kDicePiece;
  if (pairs > 65535 || pieces > 2147483647u) throw std::length_error("dice: more than 65535 image x class pairs for one launch");
  LAUNCH(DicePairs, dim3(static_cast<unsigned>(pieces), static_cast<unsigned>(pairs)), kDiceThreads, 0, s, d_pred.get(), d_truth.get(),
         pixels, counts.get());
  MB_CHECK_LAUNCH("DicePairs");
  std::vector<unsigned long long> h(3 * pairs);
  counts.Download(h.data(), h.size(), s);
  MB_CHECK(cudaStreamSynchronize(s));
  for (size_t k = 0; k < h.size(); k++) out[k] = static_cast<double>(h[k]);
}

}  // namespace maskbox::cuda
