// Stable device sort by 32-bit key (LSD radix: 8-bit digits, 4 passes of count -> scan -> scatter),
// used by nms.cu and yoloNms.cu to visit boxes by score descending, equal scores by index ascending,
// and by dbscan.cu to order points by grid cell; and the scans (one block; multi-block ScanLarge).
// No CUB: the per-warp digit ranks come from __match_any_sync, the block ranks from per-warp counts.
#include "blockScan.cuh"
#include "detail.h"

namespace maskbox::cuda::detail {
namespace {

constexpr unsigned kSortThreads = 256;  // one element per thread
constexpr unsigned kWarps = kSortThreads / 32;
constexpr unsigned kDigits = 256;
constexpr unsigned kScanThreads = 1024;

// Per-warp digit counts of this block's tile into counts[warp * 256 + digit]; returns this lane's
// digit (kDigits when past n) and its rank among the warp's lanes with the same digit.
__device__ __forceinline__ unsigned WarpDigits(const uint32_t* keys, size_t n, int shift, unsigned* counts, unsigned* rank) {
  const unsigned tid = threadIdx.x, lane = tid & 31u, warp = tid >> 5;
  for (unsigned i = tid; i < kWarps * kDigits; i += kSortThreads) counts[i] = 0;
  __syncthreads();
  const size_t i = size_t(blockIdx.x) * kSortThreads + tid;
  const unsigned d = i < n ? (keys[i] >> shift) & 255u : kDigits;
  const unsigned peers = __match_any_sync(0xffffffffu, d);
  const unsigned below = peers & ((1u << lane) - 1u);
  *rank = static_cast<unsigned>(__popc(below));
  if (d < kDigits && below == 0) counts[warp * kDigits + d] = static_cast<unsigned>(__popc(peers));
  __syncthreads();
  return d;
}

__global__ void __launch_bounds__(kSortThreads) SortCount(const uint32_t* keys, size_t n, int shift, unsigned* hist) {
  __shared__ unsigned counts[kWarps * kDigits];
  unsigned rank;
  WarpDigits(keys, n, shift, counts, &rank);
  const unsigned d = threadIdx.x;  // kSortThreads == kDigits: one digit per thread
  unsigned sum = 0;
  for (unsigned w = 0; w < kWarps; w++) sum += counts[w * kDigits + d];
  hist[size_t(d) * gridDim.x + blockIdx.x] = sum;
}

// Exclusive scan of data[0, total) in place, one block (for the sort: digit-major order, digit 0 of every
// block, then digit 1, ...: the scatter offsets of a stable sort).
__global__ void __launch_bounds__(kScanThreads) ScanInPlace(unsigned* data, size_t total) {
  __shared__ unsigned warp_sums[32];
  unsigned carry = 0;  // the same in every thread
  for (size_t base = 0; base < total; base += kScanThreads) {
    const size_t i = base + threadIdx.x;
    const unsigned v = i < total ? data[i] : 0u;
    unsigned sum;
    const unsigned before = BlockExclusiveScan(v, warp_sums, &sum);
    if (i < total) data[i] = carry + before;
    carry += sum;
  }
}

__global__ void __launch_bounds__(kSortThreads) SortScatter(const uint32_t* keys, const int32_t* vals, size_t n, int shift,
                                                            const unsigned* offsets, uint32_t* keys_out, int32_t* vals_out) {
  __shared__ unsigned counts[kWarps * kDigits];
  unsigned rank;
  const unsigned d = WarpDigits(keys, n, shift, counts, &rank);
  {  // counts[w][digit] -> exclusive prefix over the warps before w
    const unsigned t = threadIdx.x;
    unsigned run = 0;
    for (unsigned w = 0; w < kWarps; w++) {
      const unsigned c = counts[w * kDigits + t];
      counts[w * kDigits + t] = run;
      run += c;
    }
  }
  __syncthreads();
  if (d < kDigits) {
    const size_t i = size_t(blockIdx.x) * kSortThreads + threadIdx.x;
    const size_t pos = size_t(offsets[size_t(d) * gridDim.x + blockIdx.x]) + counts[(threadIdx.x >> 5) * kDigits + d] + rank;
    keys_out[pos] = keys[i];
    vals_out[pos] = vals[i];
  }
}

// ScanLarge, pass 1: each block's exclusive scan in place, its total to sums[blockIdx.x].
__global__ void __launch_bounds__(kScanThreads) ScanBlocks(unsigned* data, size_t n, unsigned* sums) {
  __shared__ unsigned warp_sums[32];
  const size_t i = size_t(blockIdx.x) * kScanThreads + threadIdx.x;
  const unsigned v = i < n ? data[i] : 0u;
  unsigned total;
  const unsigned before = BlockExclusiveScan(v, warp_sums, &total);
  if (i < n) data[i] = before;
  if (threadIdx.x == 0) sums[blockIdx.x] = total;
}

// ScanLarge, pass 3: add the scanned block totals.
__global__ void __launch_bounds__(kScanThreads) AddBlockOffsets(unsigned* data, size_t n, const unsigned* sums) {
  const size_t i = size_t(blockIdx.x) * kScanThreads + threadIdx.x;
  if (i < n) data[i] += sums[blockIdx.x];
}

}  // namespace

size_t ScanLarge(unsigned* data, size_t n, cudaStream_t s) {
  if (n == 0) return 0;
  if (n > size_t(INT32_MAX)) throw std::length_error("ScanLarge: more than 2^31-1 elements");
  const unsigned blocks = Blocks(n, kScanThreads);
  DeviceBuffer<unsigned> sums(size_t(blocks) + 1);  // the last entry becomes the total
  MB_CHECK(cudaMemsetAsync(sums.get() + blocks, 0, sizeof(unsigned), s));
  LAUNCH(ScanBlocks, blocks, kScanThreads, 0, s, data, n, sums.get());
  MB_CHECK_LAUNCH("ScanBlocks");
  ExclusiveScan(sums.get(), sums.size(), s);
  LAUNCH(AddBlockOffsets, blocks, kScanThreads, 0, s, data, n, sums.get());
  MB_CHECK_LAUNCH("AddBlockOffsets");
  unsigned total = 0;
  MB_CHECK(cudaMemcpyAsync(&total, sums.get() + blocks, sizeof total, cudaMemcpyDeviceToHost, s));
  MB_CHECK(cudaStreamSynchronize(s));
  return total;
}

void ExclusiveScan(unsigned* data, size_t n, cudaStream_t s) {
  if (n == 0) return;
  LAUNCH(ScanInPlace, 1, kScanThreads, 0, s, data, n);
  MB_CHECK_LAUNCH("ScanInPlace");
}

void StableSortByKey(uint32_t* keys, int32_t* vals, uint32_t* tmp_keys, int32_t* tmp_vals, size_t n, cudaStream_t s) {
  if (n < 2) return;
  if (n > size_t(INT32_MAX)) throw std::length_error("StableSortByKey: more than 2^31-1 elements");
  const unsigned blocks = Blocks(n, kSortThreads);
  DeviceBuffer<unsigned> hist(size_t(kDigits) * blocks);
  uint32_t *k_in = keys, *k_out = tmp_keys;
  int32_t *v_in = vals, *v_out = tmp_vals;
  for (int shift = 0; shift < 32; shift += 8) {
    LAUNCH(SortCount, blocks, kSortThreads, 0, s, k_in, n, shift, hist.get());
    MB_CHECK_LAUNCH("SortCount");
    ExclusiveScan(hist.get(), hist.size(), s);
    LAUNCH(SortScatter, blocks, kSortThreads, 0, s, k_in, v_in, n, shift, hist.get(), k_out, v_out);
    MB_CHECK_LAUNCH("SortScatter");
    uint32_t* tk = k_in;
    k_in = k_out;
    k_out = tk;
    int32_t* tv = v_in;
    v_in = v_out;
    v_out = tv;
  }
  // 4 passes: the result is back in keys/vals.
}

size_t SortCandidates(uint32_t* keys, int32_t* vals, uint32_t* tmp_keys, int32_t* tmp_vals, size_t n, const unsigned* d_count,
                      size_t max_candidates, cudaStream_t s) {
  StableSortByKey(keys, vals, tmp_keys, tmp_vals, n, s);
  unsigned candidates = 0;
  MB_CHECK(cudaMemcpyAsync(&candidates, d_count, sizeof candidates, cudaMemcpyDeviceToHost, s));
  MB_CHECK(cudaStreamSynchronize(s));
  return candidates < max_candidates ? candidates : max_candidates;
}

}  // namespace maskbox::cuda::detail
