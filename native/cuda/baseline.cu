// The lab's DBSCAN baseline detector on the device (cpu/baseline.h contract; equals
// native/cpu/baseline.cc output for output): the 3x3 filter chain, one kernel per pass with the
// per-pixel decisions of filter_math.h (shared with cpu/filter3x3.cc) -> the kept pixels compacted in
// row-major order (flags + ScanLarge) as (x, y) points and the (row, col) float64 coordinates sklearn saw
// -> DBSCAN on those device-resident points (dbscan.cu) -> one min/max box per cluster (atomics).
// The image crosses PCIe once; points, labels and boxes come back (they are outputs).
// As dbscan.cu: n <= 11 kept pixels or a sqrt-tie pair -> cpu::Dbscan on the host (its sequential
// tie rules), then the boxes on the device again.
#include "maskbox_cuda.h"

#include "cpu/dbscanTies.h"
#include "detail.h"
#include "filter_math.h"

namespace maskbox::cuda {
namespace {
using namespace detail;

constexpr unsigned kThreads = 256;

// Pass 1 at every pixel: 9 * s + box3(s) > t0, s the RGB sum, zero padding.
__global__ void __launch_bounds__(kThreads) FirstPass(const uint8_t* data, size_t w, size_t h, int channels, unsigned t0, uint8_t* out) {
  const size_t pixels = w * h;
  for (size_t p = size_t(blockIdx.x) * kThreads + threadIdx.x; p < pixels; p += size_t(gridDim.x) * kThreads) {
    const size_t y = p / w, x = p - y * w;
    unsigned box = 0;
    for (size_t yy = y > 0 ? y - 1 : 0; yy <= y + 1 && yy < h; yy++)
      for (size_t xx = x > 0 ? x - 1 : 0; xx <= x + 1 && xx < w; xx++)
        box += math::RgbSum(data + (yy * w + xx) * size_t(channels), channels);
    out[p] = math::FirstPassOn(math::RgbSum(data + p * size_t(channels), channels), box, t0) ? 1 : 0;
  }
}

// Passes 2..: on when on and >= 3 on in the 3x3 box (centre included), zero padding.
__global__ void __launch_bounds__(kThreads) BinaryPass(const uint8_t* in, size_t w, size_t h, uint8_t* out) {
  const size_t pixels = w * h;
  for (size_t p = size_t(blockIdx.x) * kThreads + threadIdx.x; p < pixels; p += size_t(gridDim.x) * kThreads) {
    const size_t y = p / w, x = p - y * w;
    unsigned box = 0;
    for (size_t yy = y > 0 ? y - 1 : 0; yy <= y + 1 && yy < h; yy++)
      for (size_t xx = x > 0 ? x - 1 : 0; xx <= x + 1 && xx < w; xx++) box += in[yy * w + xx];
    out[p] = math::BinaryPassOn(in[p], box) ? 1 : 0;
  }
}

__global__ void __launch_bounds__(kThreads) MaskFlags(const uint8_t* mask, size_t pixels, unsigned* flag) {
  for (size_t p = size_t(blockIdx.x) * kThreads + threadIdx.x; p < pixels; p += size_t(gridDim.x) * kThreads) flag[p] = mask[p];
}

// Kept pixel p goes to slot pos[p]: points (x, y), rc (row, col) as float64.
__global__ void __launch_bounds__(kThreads) Compact(const uint8_t* mask, const unsigned* pos, size_t w, size_t pixels, int32_t* points,
                                                    double* rc) {
  for (size_t p = size_t(blockIdx.x) * kThreads + threadIdx.x; p < pixels; p += size_t(gridDim.x) * kThreads) {
    if (!mask[p]) continue;
    const size_t k = pos[p], y = p / w, x = p - y * w;
    points[2 * k] = static_cast<int32_t>(x);
    points[2 * k + 1] = static_cast<int32_t>(y);
    rc[2 * k] = static_cast<double>(y);
    rc[2 * k + 1] = static_cast<double>(x);
  }
}

__global__ void __launch_bounds__(kThreads) InitBoxes(size_t clusters, int32_t* box, int32_t* sizes) {
  for (size_t c = size_t(blockIdx.x) * kThreads + threadIdx.x; c < clusters; c += size_t(gridDim.x) * kThreads) {
    box[4 * c] = box[4 * c + 1] = INT32_MAX;
    box[4 * c + 2] = box[4 * c + 3] = INT32_MIN;
    sizes[c] = 0;
  }
}

__global__ void __launch_bounds__(kThreads) BoxKernel(const int32_t* labels, const int32_t* points, size_t m, int32_t* box, int32_t* sizes) {
  for (size_t k = size_t(blockIdx.x) * kThreads + threadIdx.x; k < m; k += size_t(gridDim.x) * kThreads) {
    const int32_t c = labels[k];
    if (c < 0) continue;
    const int32_t x = points[2 * k], y = points[2 * k + 1];
    int32_t* b = box + 4 * size_t(c);
    atomicAdd(sizes + c, 1);
    atomicMin(b, x);
    atomicMin(b + 1, y);
    atomicMax(b + 2, x);
    atomicMax(b + 3, y);
  }
}

// float32 boxes; `grow` 1 makes x2, y2 pixel edges instead of pixel centres (box: 'edges').
__global__ void __launch_bounds__(kThreads) FinishBoxes(const int32_t* box, size_t clusters, int32_t grow, float* out) {
  for (size_t i = size_t(blockIdx.x) * kThreads + threadIdx.x; i < 4 * clusters; i += size_t(gridDim.x) * kThreads)
    out[i] = static_cast<float>(box[i] + (i % 4 >= 2 ? grow : 0));
}

}  // namespace

cpu::BaselineOutput Baseline(const uint8_t* data, const cpu::BaselineOptions& o) {
  cpu::CheckBaselineOptions(o);
  const size_t w = o.width, h = o.height, pixels = w * h;
  cudaStream_t s = nullptr;
  const unsigned grid = GridFor(pixels, kThreads);

  // The filter chain, ping-pong between two masks.
  DeviceBuffer<uint8_t> d_data(pixels * size_t(o.channels)), d_a(pixels), d_b(pixels);
  d_data.Upload(data, d_data.size(), s);
  LAUNCH(FirstPass, grid, kThreads, 0, s, d_data.get(), w, h, o.channels, math::FirstPassThreshold(o.unit), d_a.get());
  MB_CHECK_LAUNCH("FirstPass");
  uint8_t *mask = d_a.get(), *next = d_b.get();
  for (int p = 2; p <= o.passes; p++) {
    LAUNCH(BinaryPass, grid, kThreads, 0, s, mask, w, h, next);
    MB_CHECK_LAUNCH("BinaryPass");
    uint8_t* t = mask;
    mask = next;
    next = t;
  }

  // Kept pixels, row-major.
  DeviceBuffer<unsigned> d_pos(pixels);
  LAUNCH(MaskFlags, grid, kThreads, 0, s, mask, pixels, d_pos.get());
  MB_CHECK_LAUNCH("MaskFlags");
  const size_t m = ScanLarge(d_pos.get(), pixels, s);
  cpu::BaselineOutput out;
  if (m == 0) return out;
  DeviceBuffer<int32_t> d_points(2 * m), d_labels(m);
  DeviceBuffer<double> d_rc(2 * m);
  LAUNCH(Compact, grid, kThreads, 0, s, mask, d_pos.get(), w, pixels, d_points.get(), d_rc.get());
  MB_CHECK_LAUNCH("Compact");
  out.points.resize(2 * m);
  out.labels.resize(m);
  d_points.Download(out.points.data(), out.points.size(), s);

  // DBSCAN over (row, col): on the device, or on the host where sklearn's decisions are sequential.
  const cpu::DbscanOptions d = cpu::BaselineDbscanOptions(o, m);
  int32_t clusters = -1;
  if (m > cpu::kSklearnBruteMax) {
    DeviceBuffer<uint8_t> d_core(m);
    clusters = DbscanOnDevice(d_rc.get(), m, 2, d.eps, d.min_samples, d_labels.get(), d_core.get(), s);
  }
  if (clusters < 0) {
    std::vector<double> rc(2 * m);
    std::vector<uint8_t> core(m);
    d_rc.Download(rc.data(), rc.size(), s);
    MB_CHECK(cudaStreamSynchronize(s));
    clusters = cpu::Dbscan(rc.data(), d, out.labels.data(), core.data());
    d_labels.Upload(out.labels.data(), m, s);
  } else {
    d_labels.Download(out.labels.data(), m, s);
  }

  // One box per cluster.
  const size_t k = static_cast<size_t>(clusters);
  out.sizes.resize(k);
  out.boxes.resize(4 * k);
  if (k > 0) {
    DeviceBuffer<int32_t> d_box(4 * k), d_sizes(k);
    DeviceBuffer<float> d_boxes(4 * k);
    LAUNCH(InitBoxes, GridFor(k, kThreads), kThreads, 0, s, k, d_box.get(), d_sizes.get());
    MB_CHECK_LAUNCH("InitBoxes");
    LAUNCH(BoxKernel, GridFor(m, kThreads), kThreads, 0, s, d_labels.get(), d_points.get(), m, d_box.get(), d_sizes.get());
    MB_CHECK_LAUNCH("BoxKernel");
    LAUNCH(FinishBoxes, GridFor(4 * k, kThreads), kThreads, 0, s, d_box.get(), k, o.edges ? 1 : 0, d_boxes.get());
    MB_CHECK_LAUNCH("FinishBoxes");
    d_boxes.Download(out.boxes.data(), 4 * k, s);
    d_sizes.Download(out.sizes.data(), k, s);
  }
  MB_CHECK(cudaStreamSynchronize(s));
  return out;
}

}  // namespace maskbox::cuda
