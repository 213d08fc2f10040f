// Device tensors (maskbox_cuda.h `Tensor`) and the pinned staging their copies go through. A tensor is a
// plain cudaMalloc'd float32 array owned by a JS object (addon_tensor.cc); ops that take or return one
// chain on the device. Copies: pageable JS memory -> pinned chunk (host memcpy) -> cudaMemcpyAsync on the
// call's own stream, two chunks alternating so one chunk's host copy overlaps the other's DMA; the
// caller synchronises before its Promise resolves.
#include <algorithm>
#include <cstring>
#include <stdexcept>

#include "detail.h"
#include "maskbox_cuda.h"

namespace maskbox::cuda {

Tensor::Tensor(size_t length) : length_(length) {
  if (length > (size_t{1} << 40) / sizeof(float)) throw std::length_error("device tensor larger than 1 TiB");
  if (length) MB_CHECK(cudaMalloc(reinterpret_cast<void**>(&data_), length * sizeof(float)));
}

Tensor::~Tensor() {
  if (data_) cudaFree(data_);
}

namespace detail {
namespace {

constexpr size_t kStagingBytes = size_t{4} << 20;

/** Two pinned chunks and an event per chunk: a chunk is reusable once the copy recorded on it finished. */
class Staging {
 public:
  explicit Staging(size_t bytes) : size_(std::min(bytes, kStagingBytes)) {
    for (auto& b : buf_) MB_CHECK(cudaMallocHost(reinterpret_cast<void**>(&b), size_));
    for (auto& e : done_) MB_CHECK(cudaEventCreateWithFlags(&e, cudaEventDisableTiming));
  }
  ~Staging() {
    for (auto* b : buf_) cudaFreeHost(b);
    for (auto e : done_) cudaEventDestroy(e);
  }
  Staging(const Staging&) = delete;
  Staging& operator=(const Staging&) = delete;
  char* operator[](size_t i) const { return buf_[i & 1]; }
  size_t size() const { return size_; }
  /** Marks chunk i's copy as queued on s / waits until it is done. */
  void Queued(size_t i, cudaStream_t s) { MB_CHECK(cudaEventRecord(done_[i & 1], s)); }
  void Wait(size_t i) { MB_CHECK(cudaEventSynchronize(done_[i & 1])); }

 private:
  char* buf_[2] = {nullptr, nullptr};
  cudaEvent_t done_[2] = {};
  size_t size_;
};

}  // namespace

void CopyToDevice(void* d_dst, const void* host, size_t bytes, cudaStream_t s) {
  if (bytes == 0) return;
  Staging st(bytes);
  const char* src = static_cast<const char*>(host);
  char* dst = static_cast<char*>(d_dst);
  for (size_t off = 0, k = 0; off < bytes; off += st.size(), k++) {
    const size_t n = std::min(st.size(), bytes - off);
    if (k >= 2) st.Wait(k);  // chunk k-2 used this buffer: its DMA must be done (chunk k-1's may still run)
    std::memcpy(st[k], src + off, n);
    MB_CHECK(cudaMemcpyAsync(dst + off, st[k], n, cudaMemcpyHostToDevice, s));
    st.Queued(k, s);
  }
  MB_CHECK(cudaStreamSynchronize(s));  // the staging memory is freed on return
}

void CopyToHost(void* host, const void* d_src, size_t bytes, cudaStream_t s) {
  if (bytes == 0) return;
  Staging st(bytes);
  const char* src = static_cast<const char*>(d_src);
  char* dst = static_cast<char*>(host);
  // DMA chunk k+1 while chunk k is copied out of its pinned buffer.
  size_t n0 = std::min(st.size(), bytes);
  MB_CHECK(cudaMemcpyAsync(st[0], src, n0, cudaMemcpyDeviceToHost, s));
  for (size_t off = 0, k = 0; off < bytes; off += st.size(), k++) {
    const size_t n = std::min(st.size(), bytes - off);
    MB_CHECK(cudaStreamSynchronize(s));
    const size_t next = off + st.size();
    if (next < bytes) MB_CHECK(cudaMemcpyAsync(st[k + 1], src + next, std::min(st.size(), bytes - next), cudaMemcpyDeviceToHost, s));
    std::memcpy(dst + off, st[k], n);
  }
  MB_CHECK(cudaStreamSynchronize(s));
}

}  // namespace detail

void UploadTensor(Tensor& t, const float* host, size_t n) {
  if (n > t.length()) throw std::length_error("upload of " + std::to_string(n) + " values into a device tensor of " + std::to_string(t.length()));
  detail::Stream s;
  detail::CopyToDevice(t.data(), host, n * sizeof(float), s.get());
}

void DownloadTensor(const Tensor& t, float* host, size_t n) {
  if (n > t.length()) throw std::length_error("read of " + std::to_string(n) + " values from a device tensor of " + std::to_string(t.length()));
  detail::Stream s;
  detail::CopyToHost(host, t.data(), n * sizeof(float), s.get());
}

}  // namespace maskbox::cuda
