// The CUDA kernels' plain C++ API (no CUDA types): what the N-API bindings (addon_cuda.cc) and the
// standalone test binary (test/) call. Implemented by the .cu files in this folder, compiled either by
// nvcc (the real kernels) or by g++ against emu/cuda_emu.h (the emulated build, maskbox-emu.node).
// Options and results reuse the CPU kernels' structs: every backend computes the same function.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "cpu/baseline.h"
#include "cpu/dbscan.h"
#include "cpu/letterbox.h"
#include "cpu/logitsToRle.h"
#include "cpu/nms.h"
#include "cpu/rle.h"
#include "cpu/yoloNms.h"

namespace maskbox::cuda {

/** What cudaGetDeviceCount and the first device say; `code != 0` or `count == 0` means "no CUDA". */
struct DeviceStatus {
  int code = 0;          // cudaGetDeviceCount's return (35 without a driver)
  std::string error;     // cudaGetErrorName + cudaGetErrorString when code != 0
  int count = 0;
  std::string name;      // device 0
  int major = 0, minor = 0;
  bool emulated = false; // the CPU emulation (maskbox-emu.node), never a GPU
};

DeviceStatus Probe();

/** Greedy NMS (cpu::Nms semantics, same indices). Throws std::runtime_error on CUDA errors. */
std::vector<int32_t> Nms(const cpu::NmsOptions& o);

/** The fused YOLO post-process (cpu::YoloNms semantics, same outputs). */
cpu::YoloDetections YoloNms(const cpu::YoloNmsOptions& o);

/** Runs of every channel of a [channels, height, width] uint8 mask in `order` (cpu::RleRunsKernel). */
std::vector<std::vector<uint32_t>> RleRuns(const uint8_t* mask, size_t channels, uint32_t height, uint32_t width, cpu::RleOrder order);

/** Dice counts (cpu::DiceKernel): out[(image * classes + class) * 3 + k] = |pred ∩ truth|, |pred|, |truth|. */
void DiceCounts(const uint8_t* const* pred, const uint8_t* const* truth, size_t images, size_t classes, size_t pixels, double* out);

/** Fused logits -> bilinear -> threshold -> RLE strings and areas (cpu::LogitsToRle semantics). */
std::vector<cpu::ClassRle> LogitsToRle(const cpu::LogitsToRleOptions& o);

/** Bilinear resize of a [channels, h, w] float32 tensor to [channels, H, W] (cpu resize semantics, bit-identical). */
void Resize(const float* data, size_t channels, size_t h, size_t w, size_t H, size_t W, float* out);

/** The letterbox op's arguments (cpu/letterbox.h: one contract and one binding for both backends). */
using LetterboxParams = cpu::LetterboxParams;

/** Fused letterbox into out [3, out_height, out_width] (cpu letterbox semantics, bit-identical); the range used. */
void Letterbox(const LetterboxParams& o, float* out, double* low, double* high);

/**
 * Decodes channels run lists (runs[c]: lengths[c] values, start/length pairs in `order`) into a
 * [channels, height, width] 0/1 mask. Invalid runs throw std::invalid_argument naming the channel.
 */
void RleDecode(const uint32_t* const* runs, const size_t* lengths, size_t channels, uint32_t height, uint32_t width, cpu::RleOrder order,
               uint8_t* out);

/** out[3k..3k+3) = |a[k] ∩ b[k]|, area of a[k], area of b[k] for `pairs` pairs of run lists (any values are memory-safe). */
void RleOverlap(const uint32_t* const* a, const size_t* a_lengths, const uint32_t* const* b, const size_t* b_lengths, size_t pairs,
                double* out);

/**
 * A float32 array in device memory that outlives one call: the JS DeviceTensor of location 'cuda'
 * (src/backends/cuda/tensor.ts), so ops can be chained on the device (letterbox -> ... -> nms) without
 * a round trip through the host. Freed when the last owner lets go (tensor.cu).
 */
class Tensor {
 public:
  explicit Tensor(size_t length);
  ~Tensor();
  Tensor(const Tensor&) = delete;
  Tensor& operator=(const Tensor&) = delete;
  float* data() const { return data_; }
  size_t length() const { return length_; }

 private:
  float* data_ = nullptr;
  size_t length_ = 0;
};

/** Host -> device: the first `n` values of `t` from `host` (n <= t.length()), through pinned staging. */
void UploadTensor(Tensor& t, const float* host, size_t n);
/** Device -> host: the first `n` values of `t`. */
void DownloadTensor(const Tensor& t, float* host, size_t n);

/** Letterbox (the Letterbox contract) into a device tensor of 3 * out_height * out_width values. */
void LetterboxToDevice(const LetterboxParams& o, Tensor& out, double* low, double* high);

/**
 * NMS (cpu::Nms semantics) over device-resident boxes [4n] and scores [n], n = scores.length(); o.boxes
 * and o.scores are ignored, o.classes is host memory or null. Only the kept indices cross to the host.
 */
std::vector<int32_t> NmsOnDevice(const cpu::NmsOptions& o, const Tensor& boxes, const Tensor& scores);

/**
 * DBSCAN with cpu::Dbscan's contract (cpu::DbscanKernel: exactly one of points64 / points32 non-null; the
 * same labels, core flags, cluster count and std::invalid_argument messages). dbscan.cu.
 */
int32_t Dbscan(const double* points64, const float* points32, const cpu::DbscanOptions& o, int32_t* labels, uint8_t* core);

/** The DBSCAN baseline detector (cpu::Baseline semantics, same outputs). baseline.cu. */
cpu::BaselineOutput Baseline(const uint8_t* data, const cpu::BaselineOptions& o);

}  // namespace maskbox::cuda
