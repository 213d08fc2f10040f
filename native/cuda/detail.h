// Pieces shared by the .cu files (host side): error checks, a device buffer, the stable device sort and
// the NMS core. Not part of the addon's API (that is maskbox_cuda.h).
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

#include "cuda_compat.h"

namespace maskbox::cuda::detail {

inline void Check(cudaError_t e, const char* what) {
  if (e != cudaSuccess) {
    throw std::runtime_error(std::string("CUDA error ") + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ") in " + what);
  }
}
#define MB_CHECK(expr) ::maskbox::cuda::detail::Check((expr), #expr)
/** After every LAUNCH: launch-configuration errors come back from cudaGetLastError(). */
#define MB_CHECK_LAUNCH(name) ::maskbox::cuda::detail::Check(cudaGetLastError(), "launch of " name)

/** Device memory for n elements of T (freed on scope exit). */
template <typename T>
class DeviceBuffer {
 public:
  explicit DeviceBuffer(size_t n) : n_(n) {
    if (n) MB_CHECK(cudaMalloc(reinterpret_cast<void**>(&p_), n * sizeof(T)));
  }
  ~DeviceBuffer() {
    if (p_) cudaFree(p_);
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  T* get() const { return p_; }
  size_t size() const { return n_; }
  void Upload(const T* host, size_t n, cudaStream_t s) {
    if (n > n_) throw std::length_error("DeviceBuffer::Upload past the end");
    if (n) MB_CHECK(cudaMemcpyAsync(p_, host, n * sizeof(T), cudaMemcpyHostToDevice, s));
  }
  void Download(T* host, size_t n, cudaStream_t s) const {
    if (n > n_) throw std::length_error("DeviceBuffer::Download past the end");
    if (n) MB_CHECK(cudaMemcpyAsync(host, p_, n * sizeof(T), cudaMemcpyDeviceToHost, s));
  }

 private:
  T* p_ = nullptr;
  size_t n_ = 0;
};

/** A stream of one call's own (non-blocking: it does not wait for other calls' work on the legacy stream). */
class Stream {
 public:
  Stream() { MB_CHECK(cudaStreamCreateWithFlags(&s_, cudaStreamNonBlocking)); }
  ~Stream() { cudaStreamDestroy(s_); }
  Stream(const Stream&) = delete;
  Stream& operator=(const Stream&) = delete;
  cudaStream_t get() const { return s_; }
  void Sync() const { MB_CHECK(cudaStreamSynchronize(s_)); }

 private:
  cudaStream_t s_ = nullptr;
};

/**
 * Host <-> device copies of device tensors through pinned (page-locked) staging, so the DMA runs at full
 * speed and asynchronously on `s`: chunks of kStagingBytes, two buffers alternating (the host copy of
 * one chunk overlaps the transfer of the other). tensor.cu.
 */
void CopyToDevice(void* d_dst, const void* host, size_t bytes, cudaStream_t s);
void CopyToHost(void* host, const void* d_src, size_t bytes, cudaStream_t s);

/** Blocks for `n` items at `threads` per block (at least 1, so callers guard n == 0 themselves). */
inline unsigned Blocks(size_t n, unsigned threads) { return static_cast<unsigned>((n + threads - 1) / threads); }

/**
 * Stable sort of (keys, vals) by key ascending on the device (LSD radix, 8-bit digits, 4 passes),
 * in place; tmp_keys/tmp_vals hold n elements each. n <= INT32_MAX.
 */
void StableSortByKey(uint32_t* keys, int32_t* vals, uint32_t* tmp_keys, int32_t* tmp_vals, size_t n, cudaStream_t s);

/**
 * Candidates in visiting order: StableSortByKey, then min(*d_count, max_candidates) (d_count: how many
 * keys are not kNoKey, counted on the device by the key kernel). Returns that number.
 */
size_t SortCandidates(uint32_t* keys, int32_t* vals, uint32_t* tmp_keys, int32_t* tmp_vals, size_t n, const unsigned* d_count,
                      size_t max_candidates, cudaStream_t s);

/** Exclusive prefix sum of data[0, n) in place (one block; for block counts, not for big arrays). */
void ExclusiveScan(unsigned* data, size_t n, cudaStream_t s);

/** Exclusive prefix sum of data[0, n) in place for any n <= 2^31-1 (per-block scans + one scan of block totals); returns the total (synchronises). */
size_t ScanLarge(unsigned* data, size_t n, cudaStream_t s);

/**
 * DBSCAN of n >= 1 points already on the device (d_points [n * dims], point-major) with cpu::Dbscan's
 * labels (dbscan.cu); writes d_labels / d_core [n] in input order and returns the number of clusters,
 * or -1 when a sqrt-tie pair exists (the caller then labels on the host: cpu::Dbscan). Arguments are
 * the caller's to check (cpu::CheckDbscanInput).
 */
template <typename T>
int32_t DbscanOnDevice(const T* d_points, size_t n, size_t dims, double eps, int64_t min_samples, int32_t* d_labels, uint8_t* d_core,
                       cudaStream_t s);

/**
 * Runs of a bit-packed mask on the device: channel c is words [c * words, (c + 1) * words) of d_bits,
 * bit k of word j = pixel 32j + k (bits past the channel's pixels must be 0). Only the runs come back:
 * (*runs)[c] = start, length pairs, starts 0-based in the channel. bitRuns.cu.
 */
void BitsToRuns(const uint32_t* d_bits, size_t channels, size_t words, std::vector<std::vector<uint32_t>>* runs, cudaStream_t s);

/** Key whose ascending order is the score's descending order (-0 == +0). Filtered-out rows use kNoKey. */
constexpr uint32_t kNoKey = 0xFFFFFFFFu;

/**
 * Greedy NMS over m boxes already in visiting order (d_boxes [m*4] x1,y1,x2,y2; d_cls [m] or null for
 * class-agnostic): 64-bit IoU mask tiles, then the greedy scan on the device. Writes the kept
 * positions (0..m-1, ascending) to d_keep [m] and returns how many (at most max_det). Only that count
 * crosses to the host.
 */
size_t NmsSorted(const float* d_boxes, const int32_t* d_cls, size_t m, double iou, size_t max_det, int32_t* d_keep, cudaStream_t s);

/** float32 threshold t' with (x > t') == ((double)x > t) for every float x (t rounded down to float). */
float ThresholdDown(double t);

}  // namespace maskbox::cuda::detail

namespace maskbox::cuda::detail {

/** Blocks for a grid-stride loop over n items: Blocks(n) capped at 2^20 (each thread then loops). */
inline unsigned GridFor(size_t n, unsigned threads) {
  const size_t b = (n + threads - 1) / threads;
  return static_cast<unsigned>(b == 0 ? 1 : b < (size_t{1} << 20) ? b : (size_t{1} << 20));
}

/** One axis of bilinear taps (cpu::LinearTaps) as device pointers, passed to kernels by value. */
template <typename W>
struct AxisTapsOf {
  const int32_t *i0, *i1;
  const W *w0, *w1;
};
using AxisTaps = AxisTapsOf<float>;

/** cpu::LinearTaps copied to the device (freed on scope exit). */
template <typename W>
class DeviceTapsOf {
 public:
  template <typename Taps>
  DeviceTapsOf(const Taps& t, cudaStream_t s) : i0_(t.i0.size()), i1_(t.i1.size()), w0_(t.w0.size()), w1_(t.w1.size()) {
    i0_.Upload(t.i0.data(), t.i0.size(), s);
    i1_.Upload(t.i1.data(), t.i1.size(), s);
    w0_.Upload(t.w0.data(), t.w0.size(), s);
    w1_.Upload(t.w1.data(), t.w1.size(), s);
  }
  AxisTapsOf<W> view() const { return {i0_.get(), i1_.get(), w0_.get(), w1_.get()}; }

 private:
  DeviceBuffer<int32_t> i0_, i1_;
  DeviceBuffer<W> w0_, w1_;
};
using DeviceTaps = DeviceTapsOf<float>;

}  // namespace maskbox::cuda::detail
