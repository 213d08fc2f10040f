// Intersection and areas of pairs of run lists on the device (IoU / Dice of RLE masks): one thread per
// pair runs the merge walk of runs_math.h (shared with native/cpu/rleOverlap.cc). Integer counts, equal
// to src/backends/js/rle.ts rleOverlap; 3 numbers per pair come back.
#include "maskbox_cuda.h"

#include "detail.h"
#include "runs_math.h"

namespace maskbox::cuda {
namespace {
using namespace detail;

constexpr unsigned kOverlapThreads = 128;

// Pair k: a's values [a_off[k], a_off[k + 1]) of `a`, likewise b.
__global__ void __launch_bounds__(kOverlapThreads) OverlapKernel(const uint32_t* a, const unsigned long long* a_off, const uint32_t* b,
                                                                 const unsigned long long* b_off, size_t pairs, unsigned long long* out) {
  for (size_t k = size_t(blockIdx.x) * kOverlapThreads + threadIdx.x; k < pairs; k += size_t(gridDim.x) * kOverlapThreads) {
    const uint32_t* ra = a + a_off[k];
    const uint32_t* rb = b + b_off[k];
    const size_t na = a_off[k + 1] - a_off[k], nb = b_off[k + 1] - b_off[k];
    out[3 * k] = math::RunsIntersection(ra, na, rb, nb);
    out[3 * k + 1] = math::RunsArea(ra, na);
    out[3 * k + 2] = math::RunsArea(rb, nb);
  }
}

// All lists of one side concatenated on the device (one spare value: never an empty allocation); off[k] =
// first value of list k (pairs + 1 entries).
struct Side {
  DeviceBuffer<uint32_t> values;
  DeviceBuffer<unsigned long long> off;
  Side(const uint32_t* const* lists, const size_t* lengths, size_t pairs, cudaStream_t s) : values(Total(lengths, pairs) + 1), off(pairs + 1) {
    std::vector<unsigned long long> h(pairs + 1, 0);
    for (size_t k = 0; k < pairs; k++) h[k + 1] = h[k] + lengths[k];
    for (size_t k = 0; k < pairs; k++) {
      if (lengths[k]) MB_CHECK(cudaMemcpyAsync(values.get() + h[k], lists[k], lengths[k] * sizeof(uint32_t), cudaMemcpyHostToDevice, s));
    }
    off.Upload(h.data(), pairs + 1, s);
  }
  static size_t Total(const size_t* lengths, size_t pairs) {
    size_t t = 0;
    for (size_t k = 0; k < pairs; k++) t += lengths[k];
    return t;
  }
};

}  // namespace

void RleOverlap(const uint32_t* const* a, const size_t* a_lengths, const uint32_t* const* b, const size_t* b_lengths, size_t pairs,
                double* out) {
  if (pairs == 0) return;
  cudaStream_t s = nullptr;
  Side da(a, a_lengths, pairs, s), db(b, b_lengths, pairs, s);
  DeviceBuffer<unsigned long long> d_out(3 * pairs);
  LAUNCH(OverlapKernel, GridFor(pairs, kOverlapThreads), kOverlapThreads, 0, s, da.values.get(), da.off.get(), db.values.get(), db.off.get(),
         pairs, d_out.get());
  MB_CHECK_LAUNCH("OverlapKernel");
  std::vector<unsigned long long> h(3 * pairs);
  d_out.Download(h.data(), h.size(), s);
  MB_CHECK(cudaStreamSynchronize(s));
  for (size_t k = 0; k < h.size(); k++) out[k] = static_cast<double>(h[k]);
}

}  // namespace maskbox::cuda
