// Block-wide exclusive scan of one unsigned value per thread (warp shuffles, then the warp totals):
// shared by sort.cu and bitRuns.cu. blockDim.x must be a multiple of 32 (at most 1024); every thread
// of the block must call it (it holds two __syncthreads).
#pragma once

#include "cuda_compat.h"

namespace maskbox::cuda::detail {

/** Returns the sum of v over the threads before this one; *total = the block's sum. `warp_sums`: 32 shared words. */
__device__ __forceinline__ unsigned BlockExclusiveScan(unsigned v, unsigned* warp_sums, unsigned* total) {
  const unsigned tid = threadIdx.x, lane = tid & 31u, warp = tid >> 5, warps = blockDim.x >> 5;
  unsigned x = v;
  for (unsigned o = 1; o < 32; o <<= 1) {
    const unsigned y = __shfl_up_sync(0xffffffffu, x, o);
    if (lane >= o) x += y;
  }
  if (lane == 31) warp_sums[warp] = x;
  __syncthreads();
  if (warp == 0) {
    unsigned w = lane < warps ? warp_sums[lane] : 0u;
    for (unsigned o = 1; o < 32; o <<= 1) {
      const unsigned y = __shfl_up_sync(0xffffffffu, w, o);
      if (lane >= o) w += y;
    }
    if (lane < warps) warp_sums[lane] = w;  // inclusive
  }
  __syncthreads();
  const unsigned before = (warp ? warp_sums[warp - 1] : 0u) + x - v;
  *total = warp_sums[warps - 1];
  __syncthreads();  // warp_sums may be reused by the caller's next scan
  return before;
}

}  // namespace maskbox::cuda::detail
