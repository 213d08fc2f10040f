// Runs of a bit-packed mask (shared by rleEncode.cu and logitsToRle.cu): count -> scan -> scatter,
// one thread per 32-pixel word. A run starts at a set bit whose predecessor (in the channel) is clear
// and ends after a set bit whose successor is clear. The k-th end belongs to the k-th start, so one
// scan over the start counts ranks both: an end's rank is the number of starts at or before it, minus 1.
// Only the starts, ends and per-channel first ranks cross to the host.
#include "blockScan.cuh"
#include "detail.h"

namespace maskbox::cuda::detail {
namespace {

constexpr unsigned kRunThreads = 256;

struct Edges {
  uint32_t starts, ends;  // bit k: a run starts at / ends after pixel 32j + k
};

__device__ __forceinline__ Edges WordEdges(const uint32_t* bits, size_t words, size_t total, size_t g) {
  if (g >= total) return {0u, 0u};
  const size_t j = g % words;
  const uint32_t w = bits[g];
  const uint32_t prev_top = j > 0 ? bits[g - 1] >> 31 : 0u;
  const uint32_t next_low = j + 1 < words ? bits[g + 1] & 1u : 0u;
  return {w & ~((w << 1) | prev_top), w & ~((w >> 1) | (next_low << 31))};
}

__global__ void __launch_bounds__(kRunThreads) RunCount(const uint32_t* bits, size_t words, size_t total, unsigned* block_sums) {
  __shared__ unsigned warp_sums[32];
  const size_t g = size_t(blockIdx.x) * kRunThreads + threadIdx.x;
  const Edges e = WordEdges(bits, words, total, g);
  unsigned sum;
  BlockExclusiveScan(static_cast<unsigned>(__popc(e.starts)), warp_sums, &sum);
  if (threadIdx.x == 0) block_sums[blockIdx.x] = sum;
}

__global__ void __launch_bounds__(kRunThreads) RunScatter(const uint32_t* bits, size_t words, size_t total, const unsigned* block_offsets,
                                                          uint32_t* starts, uint32_t* ends, unsigned* channel_first) {
  __shared__ unsigned warp_sums[32];
  const size_t g = size_t(blockIdx.x) * kRunThreads + threadIdx.x;
  const Edges e = WordEdges(bits, words, total, g);
  unsigned sum;
  const unsigned base = block_offsets[blockIdx.x] + BlockExclusiveScan(static_cast<unsigned>(__popc(e.starts)), warp_sums, &sum);
  if (g >= total) return;
  const size_t j = g % words;
  if (j == 0) channel_first[g / words] = base;
  const uint32_t at = static_cast<uint32_t>(j * 32);
  unsigned k = base;
  for (uint32_t m = e.starts; m; m &= m - 1) starts[k++] = at + static_cast<uint32_t>(__ffs(static_cast<int>(m)) - 1);
  for (uint32_t m = e.ends; m; m &= m - 1) {
    const unsigned b = static_cast<unsigned>(__ffs(static_cast<int>(m)) - 1);
    const uint32_t upto = static_cast<uint32_t>((uint64_t{2} << b) - 1);  // bits 0..b
    ends[base + static_cast<unsigned>(__popc(e.starts & upto)) - 1] = at + b + 1;
  }
}

}  // namespace

void BitsToRuns(const uint32_t* d_bits, size_t channels, size_t words, std::vector<std::vector<uint32_t>>* runs, cudaStream_t s) {
  runs->assign(channels, {});
  const size_t total = channels * words;
  if (total == 0) return;
  if (words > (size_t{1} << 27)) throw std::length_error("rle: a channel of more than 2^32 pixels");
  const unsigned blocks = Blocks(total, kRunThreads);
  DeviceBuffer<unsigned> offsets(size_t(blocks) + 1);
  MB_CHECK(cudaMemsetAsync(offsets.get() + blocks, 0, sizeof(unsigned), s));
  LAUNCH(RunCount, blocks, kRunThreads, 0, s, d_bits, words, total, offsets.get());
  MB_CHECK_LAUNCH("RunCount");
  ExclusiveScan(offsets.get(), size_t(blocks) + 1, s);
  unsigned nruns = 0;
  MB_CHECK(cudaMemcpyAsync(&nruns, offsets.get() + blocks, sizeof(unsigned), cudaMemcpyDeviceToHost, s));
  MB_CHECK(cudaStreamSynchronize(s));
  DeviceBuffer<uint32_t> starts(nruns), ends(nruns);
  DeviceBuffer<unsigned> first(channels);
  LAUNCH(RunScatter, blocks, kRunThreads, 0, s, d_bits, words, total, offsets.get(), nruns ? starts.get() : nullptr,
         nruns ? ends.get() : nullptr, first.get());
  MB_CHECK_LAUNCH("RunScatter");
  std::vector<uint32_t> h_starts(nruns), h_ends(nruns);
  std::vector<unsigned> h_first(channels);
  starts.Download(h_starts.data(), nruns, s);
  ends.Download(h_ends.data(), nruns, s);
  first.Download(h_first.data(), channels, s);
  MB_CHECK(cudaStreamSynchronize(s));
  for (size_t c = 0; c < channels; c++) {
    const size_t a = h_first[c], b = c + 1 < channels ? h_first[c + 1] : nruns;
    std::vector<uint32_t>& r = (*runs)[c];
    r.resize(2 * (b - a));
    for (size_t k = a; k < b; k++) {
      r[2 * (k - a)] = h_starts[k];
      r[2 * (k - a) + 1] = h_ends[k] - h_starts[k];
    }
  }
}

}  // namespace maskbox::cuda::detail
