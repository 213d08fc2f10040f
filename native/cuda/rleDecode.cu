// RLE decode on the device: validated run lists (one per channel, start/length pairs in row or column
// order) -> a [C, H, W] 0/1 uint8 mask. The mask is zeroed on the device, then one warp per run writes
// its pixels (lanes stride along the run: consecutive bytes in row order; in column order pixel p of a
// channel is (p % H, p / H)). Only the runs cross to the device. Equal to src/backends/js/rle.ts rleDecode.
#include "maskbox_cuda.h"

#include <stdexcept>

#include "detail.h"

namespace maskbox::cuda {
namespace {
using namespace detail;

constexpr unsigned kDecodeThreads = 256, kWarpsPerBlock = kDecodeThreads / 32;

// run_offsets[c] = index (in runs) of channel c's first run, c in [0, channels]; `runs` are all pairs.
__global__ void __launch_bounds__(kDecodeThreads) DecodeKernel(const uint32_t* runs, const unsigned long long* run_offsets, size_t channels,
                                                               size_t total_runs, uint32_t height, uint32_t width, int col, uint8_t* out) {
  const size_t n = size_t(height) * width;
  const unsigned lane = threadIdx.x % 32;
  for (size_t r = size_t(blockIdx.x) * kWarpsPerBlock + threadIdx.x / 32; r < total_runs; r += size_t(gridDim.x) * kWarpsPerBlock) {
    size_t lo = 0, hi = channels;  // the channel: last c with run_offsets[c] <= r
    while (hi - lo > 1) {
      const size_t mid = (lo + hi) / 2;
      if (run_offsets[mid] <= r) lo = mid;
      else hi = mid;
    }
    uint8_t* plane = out + lo * n;
    const size_t start = runs[2 * r], len = runs[2 * r + 1];
    for (size_t k = lane; k < len; k += 32) {
      const size_t p = start + k;
      plane[col ? (p % height) * width + p / height : p] = 1;
    }
  }
}

}  // namespace

void RleDecode(const uint32_t* const* runs, const size_t* lengths, size_t channels, uint32_t height, uint32_t width, cpu::RleOrder order,
               uint8_t* out) {
  const size_t n = size_t(height) * width;
  if (channels == 0 || n == 0) return;
  for (size_t c = 0; c < channels; c++) {
    const std::string bad = cpu::CheckRuns(runs[c], lengths[c], n);
    if (!bad.empty()) throw std::invalid_argument("runs[" + std::to_string(c) + "]: expected " + bad);
  }
  cudaStream_t s = nullptr;
  std::vector<unsigned long long> offsets(channels + 1, 0);
  for (size_t c = 0; c < channels; c++) offsets[c + 1] = offsets[c] + lengths[c] / 2;
  const size_t total = offsets[channels];
  DeviceBuffer<uint8_t> d_out(channels * n);
  MB_CHECK(cudaMemsetAsync(d_out.get(), 0, channels * n, s));
  if (total > 0) {
    DeviceBuffer<uint32_t> d_runs(2 * total);
    DeviceBuffer<unsigned long long> d_offsets(channels + 1);
    for (size_t c = 0; c < channels; c++) {
      if (lengths[c]) MB_CHECK(cudaMemcpyAsync(d_runs.get() + 2 * offsets[c], runs[c], lengths[c] * sizeof(uint32_t), cudaMemcpyHostToDevice, s));
    }
    d_offsets.Upload(offsets.data(), channels + 1, s);
    LAUNCH(DecodeKernel, GridFor(total, kWarpsPerBlock), kDecodeThreads, 0, s, d_runs.get(), d_offsets.get(), channels, total, height,
           width, order == cpu::RleOrder::kCol ? 1 : 0, d_out.get());
    MB_CHECK_LAUNCH("DecodeKernel");
    d_out.Download(out, channels * n, s);
    MB_CHECK(cudaStreamSynchronize(s));
    return;
  }
  d_out.Download(out, channels * n, s);
  MB_CHECK(cudaStreamSynchronize(s));
}

}  // namespace maskbox::cuda
