// Greedy NMS on the device, equal index for index to native/cpu/nms.cc and src/backends/js/nms.ts:
//   1. key per box (score descending; boxes with score <= threshold or NaN get kNoKey), stable sort;
//   2. gather the first m = min(candidates, maxCandidates) boxes in visiting order;
//   3. 64-bit IoU mask tiles (torchvision's layout: bit j of mask[i][c] = box i suppresses box 64c+j),
//      only the upper triangle of tiles is launched;
//   4. the greedy scan on the device, one block: one thread resolves a 64-box tile from its diagonal
//      word, then the block ORs the kept rows into the removed-bits of the later tiles. The mask never
//      crosses PCIe (torchvision copies all of it to the host, which dominates past ~30k boxes);
//      only the kept count and indices do.
#include "maskbox_cuda.h"

#include <cmath>

#include "detail.h"
#include "iou_math.h"

namespace maskbox::cuda {
namespace detail {
namespace {

constexpr unsigned kTile = 64;
constexpr unsigned kReduceThreads = 256;
constexpr size_t kMaxSharedWords = (48 * 1024 - 256) / sizeof(uint64_t);  // + the kernel's static smem <= 48 KiB

__global__ void __launch_bounds__(256) NmsKeys(const float* scores, size_t n, double score_threshold, uint32_t* keys, int32_t* vals,
                                               unsigned* count) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= n) return;
  const float s = scores[i];
  uint32_t key = kNoKey;
  if (static_cast<double>(s) > score_threshold) {
    uint32_t u = __float_as_uint(s + 0.0f);  // -0 -> +0: equal scores tie
    u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
    key = ~u;
    atomicAdd(count, 1u);
  }
  keys[i] = key;
  vals[i] = static_cast<int32_t>(i);
}

__global__ void __launch_bounds__(256) NmsGather(const float* boxes, const int32_t* classes, const int32_t* order, size_t m,
                                                 float* sorted_boxes, int32_t* sorted_cls) {
  const size_t j = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= m) return;
  const size_t i = size_t(order[j]);
  for (int q = 0; q < 4; q++) sorted_boxes[4 * j + q] = boxes[4 * i + q];
  if (classes) sorted_cls[j] = classes[i];
}

// Tile pair k of the upper triangle (row <= col) of a tiles x tiles grid, row-major.
__device__ __forceinline__ void TriangleTile(uint64_t k, uint64_t tiles, uint64_t* row, uint64_t* col) {
  // Rows r hold tiles - r pairs; start(r) = r * tiles - r * (r - 1) / 2. Estimate r, then correct.
  const double t = static_cast<double>(tiles);
  double est = ((2.0 * t + 1.0) - sqrt((2.0 * t + 1.0) * (2.0 * t + 1.0) - 8.0 * static_cast<double>(k))) / 2.0;
  uint64_t r = est > 0.0 ? static_cast<uint64_t>(est) : 0;
  if (r >= tiles) r = tiles - 1;
  auto start = [tiles](uint64_t x) { return x * tiles - x * (x - 1) / 2; };
  while (r > 0 && start(r) > k) r--;
  while (r + 1 < tiles && start(r + 1) <= k) r++;
  *row = r;
  *col = r + (k - start(r));
}

__global__ void __launch_bounds__(kTile) NmsMask(const float* boxes, const int32_t* cls, size_t m, float thr, uint64_t tiles,
                                                 uint64_t* mask) {
  __shared__ float cb[kTile * 4];
  __shared__ float ca[kTile];
  __shared__ int32_t cc[kTile];
  uint64_t row, col;
  TriangleTile(blockIdx.x, tiles, &row, &col);
  const unsigned t = threadIdx.x;
  const size_t row_size = m - row * kTile < kTile ? m - row * kTile : kTile;
  const size_t col_size = m - col * kTile < kTile ? m - col * kTile : kTile;
  if (t < col_size) {
    const size_t j = col * kTile + t;
    for (int q = 0; q < 4; q++) cb[4 * t + q] = boxes[4 * j + q];
    ca[t] = math::BoxArea(cb[4 * t], cb[4 * t + 1], cb[4 * t + 2], cb[4 * t + 3]);
    cc[t] = cls ? cls[j] : 0;
  }
  __syncthreads();
  if (t < row_size) {
    const size_t i = row * kTile + t;
    const float x1 = boxes[4 * i], y1 = boxes[4 * i + 1], x2 = boxes[4 * i + 2], y2 = boxes[4 * i + 3];
    const float area = math::BoxArea(x1, y1, x2, y2);
    const int32_t c = cls ? cls[i] : 0;
    uint64_t bits = 0;
    for (size_t j = row == col ? t + 1 : 0; j < col_size; j++) {
      if (cc[j] != c) continue;
      const float iou = math::IouF32(x1, y1, x2, y2, area, cb[4 * j], cb[4 * j + 1], cb[4 * j + 2], cb[4 * j + 3], ca[j]);
      if (iou > thr) bits |= 1ull << j;
    }
    mask[i * tiles + col] = bits;
  }
}

// One block. removed: `tiles` words in shared memory when they fit (EXTERN_SHARED), else global scratch.
__global__ void __launch_bounds__(kReduceThreads) NmsReduce(const uint64_t* mask, size_t m, uint64_t tiles, size_t max_det,
                                                            uint64_t* removed_global, int32_t* keep, unsigned* keep_count) {
  EXTERN_SHARED(uint64_t, removed_smem);
  __shared__ uint64_t kept_bits;
  __shared__ unsigned nkeep;
  __shared__ int stop;
  uint64_t* removed = removed_global ? removed_global : removed_smem;
  const unsigned t = threadIdx.x;
  for (uint64_t w = t; w < tiles; w += kReduceThreads) removed[w] = 0;
  if (t == 0) {
    nkeep = 0;
    stop = 0;
  }
  __syncthreads();
  for (uint64_t tile = 0; tile < tiles; tile++) {
    if (t == 0) {  // the tile's own boxes, in order: only its diagonal word matters inside the tile
      const size_t size = m - tile * kTile < kTile ? m - tile * kTile : kTile;
      uint64_t rem = removed[tile], kept = 0;
      unsigned k = nkeep;
      for (size_t r = 0; r < size; r++) {
        if (k >= max_det) break;
        if (rem >> r & 1ull) continue;
        kept |= 1ull << r;
        keep[k++] = static_cast<int32_t>(tile * kTile + r);
        rem |= mask[(tile * kTile + r) * tiles + tile];
      }
      nkeep = k;
      kept_bits = kept;
      stop = k >= max_det || tile + 1 == tiles;
    }
    __syncthreads();
    if (stop) break;
    const uint64_t kb = kept_bits;
    for (uint64_t w = tile + 1 + t; w < tiles; w += kReduceThreads) {
      uint64_t acc = 0;
      for (uint64_t bits = kb; bits; bits &= bits - 1) {
        const unsigned r = static_cast<unsigned>(__ffsll(static_cast<long long>(bits)) - 1);
        acc |= mask[(tile * kTile + r) * tiles + w];
      }
      removed[w] |= acc;
    }
    __syncthreads();
  }
  if (t == 0) *keep_count = nkeep;
}

}  // namespace

float ThresholdDown(double t) {
  float f = static_cast<float>(t);
  if (static_cast<double>(f) > t) f = std::nextafter(f, -INFINITY);
  return f;
}

size_t NmsSorted(const float* d_boxes, const int32_t* d_cls, size_t m, double iou, size_t max_det, int32_t* d_keep, cudaStream_t s) {
  if (m == 0 || max_det == 0) return 0;
  const uint64_t tiles = (m + kTile - 1) / kTile;
  const uint64_t pairs = tiles * (tiles + 1) / 2;
  if (pairs > 2147483647ull) throw std::length_error("nms: too many candidate boxes for one launch");
  DeviceBuffer<uint64_t> mask(size_t(m) * tiles);
  LAUNCH(NmsMask, static_cast<unsigned>(pairs), kTile, 0, s, d_boxes, d_cls, m, ThresholdDown(iou), tiles, mask.get());
  MB_CHECK_LAUNCH("NmsMask");
  const bool in_smem = tiles <= kMaxSharedWords;
  DeviceBuffer<uint64_t> removed(in_smem ? 0 : tiles);
  DeviceBuffer<unsigned> count(1);
  LAUNCH(NmsReduce, 1, kReduceThreads, in_smem ? tiles * sizeof(uint64_t) : 0, s, mask.get(), m, tiles, max_det, removed.get(), d_keep,
         count.get());
  MB_CHECK_LAUNCH("NmsReduce");
  unsigned k = 0;
  count.Download(&k, 1, s);
  MB_CHECK(cudaStreamSynchronize(s));
  return k;
}

}  // namespace detail

namespace {
using namespace detail;

__global__ void __launch_bounds__(256) NmsIndices(const int32_t* keep, const int32_t* order, size_t k, int32_t* out) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i < k) out[i] = order[keep[i]];
}

}  // namespace

namespace {

// NMS over device boxes/scores (d_boxes [4n], d_scores [n]); classes from the host (or null).
std::vector<int32_t> NmsDevice(const cpu::NmsOptions& o, const float* d_boxes, const float* d_scores, cudaStream_t s) {
  if (!(o.iou_threshold >= 0.0 && o.iou_threshold <= 1.0)) throw std::invalid_argument("iouThreshold must be between 0 and 1");
  std::vector<int32_t> keep;
  const size_t n = o.n;
  if (n == 0 || o.max_detections == 0 || o.max_candidates == 0) return keep;
  if (n > size_t(INT32_MAX)) throw std::length_error("nms: more than 2^31-1 boxes");
  DeviceBuffer<int32_t> classes(o.classes ? n : 0);
  if (o.classes) classes.Upload(o.classes, n, s);

  DeviceBuffer<uint32_t> keys(n), keys_tmp(n);
  DeviceBuffer<int32_t> order(n), order_tmp(n);
  DeviceBuffer<unsigned> count(1);
  MB_CHECK(cudaMemsetAsync(count.get(), 0, sizeof(unsigned), s));
  LAUNCH(NmsKeys, Blocks(n, 256), 256, 0, s, d_scores, n, o.score_threshold, keys.get(), order.get(), count.get());
  MB_CHECK_LAUNCH("NmsKeys");
  const size_t m = SortCandidates(keys.get(), order.get(), keys_tmp.get(), order_tmp.get(), n, count.get(), o.max_candidates, s);
  if (m == 0) return keep;

  DeviceBuffer<float> sorted(4 * m);
  DeviceBuffer<int32_t> sorted_cls(o.classes ? m : 0);
  LAUNCH(NmsGather, Blocks(m, 256), 256, 0, s, d_boxes, o.classes ? classes.get() : nullptr, order.get(), m, sorted.get(),
         o.classes ? sorted_cls.get() : nullptr);
  MB_CHECK_LAUNCH("NmsGather");
  DeviceBuffer<int32_t> kept(m);
  const size_t k = NmsSorted(sorted.get(), o.classes ? sorted_cls.get() : nullptr, m, o.iou_threshold, o.max_detections, kept.get(), s);
  if (k == 0) return keep;
  DeviceBuffer<int32_t> out(k);
  LAUNCH(NmsIndices, Blocks(k, 256), 256, 0, s, kept.get(), order.get(), k, out.get());
  MB_CHECK_LAUNCH("NmsIndices");
  keep.resize(k);
  out.Download(keep.data(), k, s);
  MB_CHECK(cudaStreamSynchronize(s));
  return keep;
}

}  // namespace

std::vector<int32_t> Nms(const cpu::NmsOptions& o) {
  Stream s;
  const size_t n = o.n;
  DeviceBuffer<float> boxes(4 * n), scores(n);
  boxes.Upload(o.boxes, 4 * n, s.get());
  scores.Upload(o.scores, n, s.get());
  return NmsDevice(o, boxes.get(), scores.get(), s.get());
}

std::vector<int32_t> NmsOnDevice(const cpu::NmsOptions& o, const Tensor& boxes, const Tensor& scores) {
  if (scores.length() != o.n || boxes.length() != 4 * o.n) throw std::length_error("nms: device boxes must hold 4 values per score");
  Stream s;
  return NmsDevice(o, boxes.data(), scores.data(), s.get());
}

}  // namespace maskbox::cuda
