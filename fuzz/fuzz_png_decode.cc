// Fuzzes the native PNG decoder (native/cpu/pngDecode.cc DecodePng). Links the system zlib, which
// DecodePng finds through dlsym as it finds node's (plain `inflate`, ... symbols).
// Two modes, by the first byte:
//  - even: the rest is a PNG after the signature, with every chunk's CRC fixed up (so mutations reach
//    the chunk logic, inflate and the unfilter instead of stopping at the CRC); the request is taken
//    from the IHDR bytes when present. Checks: never crashes (ASan + UBSan), never writes outside `out`.
//  - odd: a valid PNG is built from the bytes (size, colour type, depth, per-row filter types, samples)
//    and compressed with zlib; it must decode (""), and rows with filter 0 must come out as written.
//
//   build/fuzz/fuzz_png_decode -max_total_time=120 build/fuzz/corpus/png_decode
#include <zlib.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/pngDecode.h"

using maskbox::cpu::DecodePng;
using maskbox::cpu::PngDecodeRequest;

namespace {

void Put32(std::vector<uint8_t>& v, uint32_t x) {
  for (int s = 24; s >= 0; s -= 8) v.push_back(static_cast<uint8_t>(x >> s));
}
uint32_t Get32(const uint8_t* p) { return (uint32_t{p[0]} << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }

void Chunk(std::vector<uint8_t>& png, const char* type, const uint8_t* data, size_t n) {
  Put32(png, static_cast<uint32_t>(n));
  const size_t at = png.size();
  png.insert(png.end(), type, type + 4);
  png.insert(png.end(), data, data + n);
  Put32(png, static_cast<uint32_t>(crc32(0, png.data() + at, static_cast<uInt>(n + 4))));
}

const uint8_t kSig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};

// Decode with an `out` of exactly the requested size plus guard bytes that must stay untouched.
std::string Decode(const std::vector<uint8_t>& png, const PngDecodeRequest& r, std::vector<uint8_t>* pixels) {
  const size_t n = size_t{r.width} * r.height * r.channels * (r.bit_depth / 8);
  std::vector<uint8_t> out(n + 64, 0xa5);
  std::string why = DecodePng(png.data(), png.size(), r, out.data(), n);
  for (size_t i = n; i < out.size(); i++)
    if (out[i] != 0xa5) abort();
  out.resize(n);
  if (pixels) pixels->swap(out);
  return why;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  if ((data[0] & 1) == 0) {
    std::vector<uint8_t> png(kSig, kSig + 8);
    png.insert(png.end(), data + 1, data + size);
    for (size_t p = 8; p + 12 <= png.size();) {  // fix up CRCs of whole chunks
      const uint32_t len = Get32(&png[p]);
      if (len > png.size() - p - 12) break;
      const uint32_t c = static_cast<uint32_t>(crc32(0, &png[p + 4], len + 4));
      for (int k = 0; k < 4; k++) png[p + 8 + len + k] = static_cast<uint8_t>(c >> (24 - 8 * k));
      p += size_t{len} + 12;
    }
    PngDecodeRequest r;
    if (png.size() >= 33) {
      r.width = Get32(&png[16]) % 257;  // keep `out` small
      r.height = Get32(&png[20]) % 257;
      r.bit_depth = png[24] == 16 ? 16 : 8;
      r.channels = (png[25] & 2) ? 3 : 1;
    }
    if (r.width == 0 || r.height == 0) return 0;
    Decode(png, r, nullptr);
    return 0;
  }
  // Build a valid PNG.
  if (size < 5) return 0;
  const uint32_t w = 1 + data[1] % 40, h = 1 + data[2] % 40;
  const int colour = (const int[]){0, 2, 4, 6}[data[3] % 4];
  const int depth = (data[3] & 4) ? 16 : 8;
  const int file_channels = colour == 0 ? 1 : colour == 2 ? 3 : colour == 4 ? 2 : 4;
  const size_t bpp = size_t(file_channels) * (depth / 8), row = bpp * w;
  std::vector<uint8_t> raw((row + 1) * h);
  size_t k = 4;
  for (size_t i = 0; i < raw.size(); i++) raw[i] = data[k++ % size];
  for (uint32_t y = 0; y < h; y++) raw[y * (row + 1)] %= 5;
  uLongf zlen = compressBound(static_cast<uLong>(raw.size()));
  std::vector<uint8_t> z(zlen);
  if (compress2(z.data(), &zlen, raw.data(), static_cast<uLong>(raw.size()), data[4] % 10) != Z_OK) abort();
  std::vector<uint8_t> png(kSig, kSig + 8);
  uint8_t ihdr[13] = {0, 0, 0, 0, 0, 0, 0, 0, static_cast<uint8_t>(depth), static_cast<uint8_t>(colour), 0, 0, 0};
  for (int s = 0; s < 4; s++) ihdr[s] = static_cast<uint8_t>(w >> (24 - 8 * s)), ihdr[4 + s] = static_cast<uint8_t>(h >> (24 - 8 * s));
  Chunk(png, "IHDR", ihdr, 13);
  const size_t cut = zlen / 2;  // two IDAT chunks
  Chunk(png, "IDAT", z.data(), cut);
  Chunk(png, "IDAT", z.data() + cut, zlen - cut);
  Chunk(png, "IEND", nullptr, 0);
  PngDecodeRequest r;
  r.width = w;
  r.height = h;
  r.channels = colour == 0 || colour == 4 ? 1 : 3;
  r.bit_depth = depth;
  std::vector<uint8_t> px;
  if (!Decode(png, r, &px).empty()) abort();
  const size_t sample = depth / 8, out_row = size_t(w) * r.channels * sample;
  for (uint32_t y = 0; y < h; y++) {
    if (raw[y * (row + 1)] != 0) continue;
    for (uint32_t x = 0; x < w; x++)
      for (int c = 0; c < r.channels; c++) {
        const uint8_t* s = &raw[y * (row + 1) + 1 + x * bpp + c * sample];
        const uint8_t* o = &px[y * out_row + (size_t(x) * r.channels + c) * sample];
        if (depth == 8 ? o[0] != s[0] : (o[0] | (o[1] << 8)) != ((s[0] << 8) | s[1])) abort();  // LE host
      }
  }
  return 0;
}
