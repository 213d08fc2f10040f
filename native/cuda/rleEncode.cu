// RLE encode on the device: a [C, H, W] uint8 mask (non-zero = 1) is packed into 32-pixel words in the
// requested flattening (row-major, or column-major: pixel p of a channel is (p % H, p / H)), and the
// runs come from bitRuns.cu (count -> scan -> scatter). Only the runs cross to the host, where the
// rleEncode binding formats them (competition strings, COCO counts or strings) with the CPU code.
// Equal to src/backends/js/rle.ts rleEncode (canonical runs: maximal, sorted).
#include "maskbox_cuda.h"

#include "detail.h"

namespace maskbox::cuda {
namespace {
using namespace detail;

// One thread per word: bit k = pixel 32j + k of channel g / words is non-zero.
__global__ void __launch_bounds__(256) MaskBits(const uint8_t* mask, size_t channels, uint32_t height, uint32_t width, int col,
                                                size_t words, uint32_t* bits) {
  const size_t g = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (g >= channels * words) return;
  const size_t n = size_t(height) * width, c = g / words, j = g % words;
  const uint8_t* plane = mask + c * n;
  uint32_t word = 0;
  for (uint32_t k = 0; k < 32; k++) {
    const size_t p = j * 32 + k;
    if (p >= n) break;
    const size_t at = col ? (p % height) * width + p / height : p;
    word |= static_cast<uint32_t>(plane[at] != 0) << k;
  }
  bits[g] = word;
}

}  // namespace

std::vector<std::vector<uint32_t>> RleRuns(const uint8_t* mask, size_t channels, uint32_t height, uint32_t width, cpu::RleOrder order) {
  std::vector<std::vector<uint32_t>> runs(channels);
  const size_t n = size_t(height) * width;
  if (channels == 0 || n == 0) return runs;
  cudaStream_t s = nullptr;
  const size_t words = (n + 31) / 32;
  DeviceBuffer<uint8_t> d_mask(channels * n);
  d_mask.Upload(mask, channels * n, s);
  DeviceBuffer<uint32_t> bits(channels * words);
  LAUNCH(MaskBits, Blocks(channels * words, 256), 256, 0, s, d_mask.get(), channels, height, width, order == cpu::RleOrder::kCol ? 1 : 0,
         words, bits.get());
  MB_CHECK_LAUNCH("MaskBits");
  BitsToRuns(bits.get(), channels, words, &runs, s);
  return runs;
}

}  // namespace maskbox::cuda
