// PNG decoding for src/io/image.ts's fast path (native/cpu/pngDecode.cc): the common, plain PNGs
// (8/16-bit grey, grey+alpha, RGB, RGBA, not interlaced, no colour-management chunks) straight into a
// caller's buffer, with the zlib that is already inside the node binary. Everything else is declined
// with a reason, and the caller decodes with sharp, whose behaviour and errors are the reference.
// No N-API here: fuzz/fuzz_png_decode.cc links it directly.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

namespace maskbox::cpu {

/** What the caller expects (from its own reading of IHDR); the decoder checks IHDR against it. */
struct PngDecodeRequest {
  uint32_t width = 0;
  uint32_t height = 0;
  /** Output channels after dropping alpha: 1 (grey, grey+alpha) or 3 (RGB, RGBA). */
  int channels = 0;
  /** 8 or 16; 16-bit samples are written as native-endian uint16. */
  int bit_depth = 0;
};

/**
 * Decode `bytes` into `out` (`width * height * channels * bit_depth / 8` bytes, interleaved HWC, alpha
 * dropped). Returns "" when the image was decoded, else why it was declined (unsupported feature, bad
 * CRC, truncated or corrupt data, no zlib in this process); `out` may then hold partial rows.
 * Never reads outside `bytes` or writes outside `out`; memory besides `out` is a few rows.
 */
std::string DecodePng(const uint8_t* bytes, size_t size, const PngDecodeRequest& request, uint8_t* out,
                      size_t out_length);

/** The zlib found in this process ("Cr_z_" for Chromium's zlib in official Node builds, "" for plain
 * zlib symbols), or nullptr when there is none (then DecodePng declines every file). */
const char* PngZlibName();

}  // namespace maskbox::cpu
