// Stable device sort by 32-bit key (LSD radix: 8-bit digits, 4 passes of count -> scan -> scatter),
// used by nms.cu and yoloNms.cu to visit boxes by score descending, equal scores by index ascending.
// No CUB: the per-warp digit ranks come from __match_any_sync, the block ranks from per-warp counts.
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

// Exclusive scan of hist[0, total) in place, one block (digit-major order: digit 0 of every block,
// then digit 1, ...: the scatter offsets of a stable sort).
__global__ void __launch_bounds__(kScanThreads) SortScan(unsigned* hist, size_t total) {
  __shared__ unsigned warp_sums[32];
  __shared__ unsigned carry;
  const unsigned tid = threadIdx.x, lane = tid & 31u, warp = tid >> 5;
  if (tid == 0) carry = 0;
  __syncthreads();
  for (size_t base = 0; base < total; base += kScanThreads) {
    const size_t i = base + tid;
    const unsigned v = i < total ? hist[i] : 0u;
    unsigned x = v;
    for (unsigned o = 1; o < 32; o <<= 1) {
      const unsigned y = __shfl_up_sync(0xffffffffu, x, o);
      if (lane >= o) x += y;
    }
    if (lane == 31) warp_sums[warp] = x;
    __syncthreads();
    if (warp == 0) {
      unsigned w = warp_sums[lane];
      for (unsigned o = 1; o < 32; o <<= 1) {
        const unsigned y = __shfl_up_sync(0xffffffffu, w, o);
        if (lane >= o) w += y;
      }
      warp_sums[lane] = w;  // inclusive
    }
    __syncthreads();
    const unsigned before = carry + (warp ? warp_sums[warp - 1] : 0u);
    if (i < total) hist[i] = before + x - v;
    __syncthreads();
    if (tid == 0) carry += warp_sums[31];
    __syncthreads();
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

}  // namespace

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
    LAUNCH(SortScan, 1, kScanThreads, 0, s, hist.get(), hist.size());
    MB_CHECK_LAUNCH("SortScan");
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

}  // namespace maskbox::cuda::detail
