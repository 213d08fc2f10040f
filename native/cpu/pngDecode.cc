// Native PNG decoder (see pngDecode.h). Why here and not in libvips: sharp's PNG decode costs ~26 ms
// CPU per 2048x2048 RGB frame plus a fresh 12.6 MB output Buffer per image (V8 counts it as external
// memory and runs a full mark-compact every few frames); this decodes into a buffer the caller reuses.
//
// It lives in native/cpu beside cocoJson.cc (the other file-format parser): it is host code with no
// per-backend variants, called like an op (Promise, libuv pool), and CMake, the ASan build and fuzz/ pick
// up native/cpu/*.cc as they are.
//
// zlib: resolved at run time from the process (dlsym(RTLD_DEFAULT)): official Node builds export
// Chromium's zlib as Cr_z_*, other builds may export plain zlib. The z_stream layout below is zlib 1.x's
// public ABI, so the build needs no zlib headers or library.
//
// Strict by design: every chunk's length and CRC is checked, chunks must be in a plain order, and any
// chunk that could change the pixels sharp returns (iCCP, sRGB, gAMA, cHRM, sBIT, tRNS, PLTE, ...) or
// that this file does not know is declined. The caller then runs sharp, so odd files keep sharp's exact
// behaviour and error messages.
#include "cpu/pngDecode.h"

#include <dlfcn.h>

#include <algorithm>
#include <memory>
#include <cstring>
#include <vector>

namespace maskbox::cpu {
namespace {

// ---- zlib, found at run time ----
struct ZStream {  // zlib 1.x z_stream (LP64 and ILP32 alike: uInt = unsigned, uLong = unsigned long)
  const uint8_t* next_in;
  unsigned avail_in;
  unsigned long total_in;
  uint8_t* next_out;
  unsigned avail_out;
  unsigned long total_out;
  const char* msg;
  void* state;
  void* zalloc;
  void* zfree;
  void* opaque;
  int data_type;
  unsigned long adler;
  unsigned long reserved;
};
constexpr int kZOk = 0, kZStreamEnd = 1, kZBufError = -5, kZNoFlush = 0;

struct Zlib {
  int (*init)(ZStream*, int, const char*, int) = nullptr;
  int (*inflate)(ZStream*, int) = nullptr;
  int (*end)(ZStream*) = nullptr;
  unsigned long (*crc32)(unsigned long, const uint8_t*, unsigned) = nullptr;
  const char* name = nullptr;
};

const Zlib& FindZlib() {
  static const Zlib z = [] {
    for (const char* prefix : {"Cr_z_", ""}) {
      auto sym = [&](const char* base) { return dlsym(RTLD_DEFAULT, (std::string(prefix) + base).c_str()); };
      Zlib c;
      c.init = reinterpret_cast<decltype(c.init)>(sym("inflateInit2_"));
      c.inflate = reinterpret_cast<decltype(c.inflate)>(sym("inflate"));
      c.end = reinterpret_cast<decltype(c.end)>(sym("inflateEnd"));
      c.crc32 = reinterpret_cast<decltype(c.crc32)>(sym("crc32"));
      // All four from one prefix, so they come from the same zlib.
      if (c.init && c.inflate && c.end && c.crc32) {
        c.name = prefix;
        return c;
      }
    }
    return Zlib();
  }();
  return z;
}

uint32_t Be32(const uint8_t* p) {
  return (uint32_t{p[0]} << 24) | (uint32_t{p[1]} << 16) | (uint32_t{p[2]} << 8) | uint32_t{p[3]};
}

unsigned long Crc(const Zlib& z, const uint8_t* p, size_t n) {
  unsigned long c = z.crc32(0, nullptr, 0);
  while (n > 0) {  // zlib takes an unsigned length
    const unsigned step = static_cast<unsigned>(std::min<size_t>(n, 1u << 30));
    c = z.crc32(c, p, step);
    p += step;
    n -= step;
  }
  return c;
}

// ---- unfiltering (PNG spec 9.2), in place; `prior` is the previous unfiltered row (zeros for row 0) ----
uint8_t Paeth(int a, int b, int c) {
  const int p = a + b - c;
  const int pa = p > a ? p - a : a - p, pb = p > b ? p - b : b - p, pc = p > c ? p - c : c - p;
  return static_cast<uint8_t>(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

template <size_t Bpp>
void UnpaethT(uint8_t* x, const uint8_t* prior, size_t n) {
  for (size_t i = 0; i < Bpp && i < n; i++) x[i] = static_cast<uint8_t>(x[i] + prior[i]);
  for (size_t i = Bpp; i < n; i++) x[i] = static_cast<uint8_t>(x[i] + Paeth(x[i - Bpp], prior[i], prior[i - Bpp]));
}

// Returns false on an unknown filter type.
bool Unfilter(int type, uint8_t* x, const uint8_t* prior, size_t n, size_t bpp) {
  switch (type) {
    case 0:
      return true;
    case 1:
      for (size_t i = bpp; i < n; i++) x[i] = static_cast<uint8_t>(x[i] + x[i - bpp]);
      return true;
    case 2:
      for (size_t i = 0; i < n; i++) x[i] = static_cast<uint8_t>(x[i] + prior[i]);
      return true;
    case 3:
      for (size_t i = 0; i < bpp && i < n; i++) x[i] = static_cast<uint8_t>(x[i] + (prior[i] >> 1));
      for (size_t i = bpp; i < n; i++) x[i] = static_cast<uint8_t>(x[i] + ((x[i - bpp] + prior[i]) >> 1));
      return true;
    case 4:
      switch (bpp) {  // one loop per pixel size, so the inner step has a constant stride
        case 1: UnpaethT<1>(x, prior, n); return true;
        case 2: UnpaethT<2>(x, prior, n); return true;
        case 3: UnpaethT<3>(x, prior, n); return true;
        case 4: UnpaethT<4>(x, prior, n); return true;
        case 6: UnpaethT<6>(x, prior, n); return true;
        case 8: UnpaethT<8>(x, prior, n); return true;
        default: return false;
      }
    default:
      return false;
  }
}

// One unfiltered row (file layout) -> output samples: alpha dropped, 16-bit to native endian.
void Emit(const uint8_t* row, uint8_t* out, size_t width, int file_channels, int out_channels, int bit_depth) {
  if (bit_depth == 8) {
    if (file_channels == out_channels) {
      std::memcpy(out, row, width * out_channels);
    } else if (out_channels == 1) {
      for (size_t x = 0; x < width; x++) out[x] = row[2 * x];
    } else {
      for (size_t x = 0; x < width; x++) {
        out[3 * x] = row[4 * x];
        out[3 * x + 1] = row[4 * x + 1];
        out[3 * x + 2] = row[4 * x + 2];
      }
    }
    return;
  }
  const size_t n = width * out_channels;
  for (size_t i = 0, x = 0; i < n; x++) {
    for (int c = 0; c < out_channels; c++, i++) {
      const uint8_t* s = row + 2 * (x * file_channels + c);
      const uint16_t v = static_cast<uint16_t>((s[0] << 8) | s[1]);
      std::memcpy(out + 2 * i, &v, 2);  // `out` is a byte buffer: no alignment assumed
    }
  }
}

/** The inflate side: IDAT bytes in, whole unfiltered rows out into `out`. */
class Rows {
 public:
  Rows(const Zlib& z, const PngDecodeRequest& r, int file_channels, uint8_t* out)
      : z_(z), r_(r), file_channels_(file_channels), out_(out) {
    bpp_ = static_cast<size_t>(file_channels) * (r.bit_depth / 8);
    row_bytes_ = bpp_ * r.width;
    stride_ = row_bytes_ + 1;
    out_row_ = static_cast<size_t>(r.width) * r.channels * (r.bit_depth / 8);
    // A few rows (>= 64 KB) per inflate call: zlib's fast loop needs room, one row per call is slower.
    slots_ = std::max<size_t>(1, std::min<size_t>(r.height, (size_t{64} << 10) / stride_ + 1));
    buf_.assign(slots_ * stride_, 0);
    prior_.assign(row_bytes_, 0);
  }
  ~Rows() {
    if (open_) z_.end(&zs_);
  }

  std::string Open() {
    std::memset(&zs_, 0, sizeof zs_);
    if (z_.init(&zs_, 15, "1.2.13", static_cast<int>(sizeof(ZStream))) != kZOk) return "zlib inflateInit2 failed";
    open_ = true;
    return "";
  }

  /** Feed one IDAT chunk's data. */
  std::string Feed(const uint8_t* data, size_t n) {
    if (ended_) return n == 0 ? "" : "IDAT data after the end of the zlib stream";
    zs_.next_in = data;
    zs_.avail_in = static_cast<unsigned>(n);  // chunk lengths are < 2^31
    for (;;) {
      uint8_t scratch;
      const size_t left = (r_.height - rows_) * stride_ - (fill_ - done_);
      const bool image_done = left == 0;
      if (image_done) {
        zs_.next_out = &scratch;
        zs_.avail_out = 1;
      } else {
        zs_.next_out = buf_.data() + fill_;
        zs_.avail_out = static_cast<unsigned>(std::min(buf_.size() - fill_, left));
      }
      const unsigned room = zs_.avail_out;
      const int ret = z_.inflate(&zs_, kZNoFlush);
      const size_t produced = room - zs_.avail_out;
      if (ret == kZBufError) {  // no progress possible: this chunk is used up
        if (zs_.avail_in == 0) return "";
        return "zlib: no progress";
      }
      if (ret != kZOk && ret != kZStreamEnd) return std::string("zlib: ") + (zs_.msg ? zs_.msg : "error");
      if (image_done && produced > 0) return "more image data than the IHDR size";
      fill_ += produced;
      if (std::string err = TakeRows(); !err.empty()) return err;
      if (ret == kZStreamEnd) {
        ended_ = true;
        if (rows_ < r_.height) return "image data ends early (truncated zlib stream)";
        return zs_.avail_in == 0 ? "" : "IDAT data after the end of the zlib stream";
      }
      if (zs_.avail_in == 0 && zs_.avail_out > 0) return "";  // everything inflatable was written
    }
  }

  bool Complete() const { return ended_ && rows_ == r_.height; }

 private:
  // Unfilter and emit every whole row in buf_[done_, fill_); recycle the buffer when it is full.
  std::string TakeRows() {
    while (fill_ - done_ >= stride_) {
      uint8_t* row = buf_.data() + done_;
      const uint8_t* prior = done_ == 0 ? prior_.data() : row - stride_ + 1;
      if (!Unfilter(row[0], row + 1, prior, row_bytes_, bpp_)) return "unknown filter type";
      Emit(row + 1, out_ + rows_ * out_row_, r_.width, file_channels_, r_.channels, r_.bit_depth);
      rows_++;
      done_ += stride_;
    }
    if (done_ == buf_.size()) {  // all slots used: keep the last row as the next one's prior
      std::memcpy(prior_.data(), buf_.data() + done_ - stride_ + 1, row_bytes_);
      fill_ = done_ = 0;
    }
    return "";
  }

  const Zlib& z_;
  const PngDecodeRequest& r_;
  int file_channels_;
  uint8_t* out_;
  size_t bpp_ = 0, row_bytes_ = 0, stride_ = 0, out_row_ = 0, slots_ = 0;
  std::vector<uint8_t> buf_, prior_;
  size_t fill_ = 0, done_ = 0;  // bytes inflated into buf_ / bytes of whole rows already emitted
  size_t rows_ = 0;
  ZStream zs_{};
  bool open_ = false, ended_ = false;
};

bool Ancillary(const uint8_t* type, const char* name) { return std::memcmp(type, name, 4) == 0; }

// tEXt: a 1..79 byte Latin-1 keyword (no leading, trailing or double spaces), NUL, printable text.
bool PlainText(const uint8_t* d, uint32_t n) {
  const uint8_t* nul = static_cast<const uint8_t*>(std::memchr(d, 0, n));
  if (!nul) return false;
  const size_t k = static_cast<size_t>(nul - d);
  if (k < 1 || k > 79 || d[0] == ' ' || d[k - 1] == ' ') return false;
  for (size_t i = 0; i < k; i++) {
    const uint8_t c = d[i];
    if (!((c >= 32 && c <= 126) || c >= 161) || (c == ' ' && d[i + 1] == ' ')) return false;
  }
  for (size_t i = k + 1; i < n; i++) {
    const uint8_t c = d[i];
    if (!((c >= 32 && c <= 126) || c >= 161 || c == '\n')) return false;
  }
  return true;
}

}  // namespace

std::string DecodePng(const uint8_t* bytes, size_t size, const PngDecodeRequest& r, uint8_t* out,
                      size_t out_length) {
  const Zlib& z = FindZlib();
  if (!z.name) return "no zlib in this process";
  static const uint8_t kSig[8] = {0x89, 'P', 'N', 'G', 0x0d, 0x0a, 0x1a, 0x0a};
  if (size < 8 || std::memcmp(bytes, kSig, 8) != 0) return "not a PNG signature";
  if (r.width == 0 || r.height == 0 || (r.channels != 1 && r.channels != 3) ||
      (r.bit_depth != 8 && r.bit_depth != 16))
    return "bad request";
  const size_t expect = static_cast<size_t>(r.width) * r.height * r.channels * (r.bit_depth / 8);
  if (expect / r.height / r.channels / (r.bit_depth / 8) != r.width || out_length != expect)
    return "output size does not match the request";

  size_t pos = 8;
  int file_channels = 0;
  bool seen_idat = false, idat_closed = false;
  std::unique_ptr<Rows> rows;  // made from IHDR
  bool seen_phys = false, seen_time = false;
  for (int index = 0;; index++) {
    if (size - pos < 12) return "truncated chunk header";
    const uint32_t len = Be32(bytes + pos);
    if (len > 0x7fffffffu) return "chunk length over 2^31-1";
    if (size - pos - 12 < len) return "truncated chunk";
    const uint8_t* type = bytes + pos + 4;
    const uint8_t* data = type + 4;
    if (Crc(z, type, size_t{len} + 4) != Be32(data + len)) return "chunk CRC mismatch";
    pos += size_t{len} + 12;

    if (index == 0) {
      if (!Ancillary(type, "IHDR") || len != 13) return "first chunk is not IHDR";
      const uint32_t w = Be32(data), h = Be32(data + 4);
      const int depth = data[8], colour = data[9];
      if (w != r.width || h != r.height) return "IHDR size differs from the request";
      if (depth != r.bit_depth) return "IHDR bit depth differs from the request";
      if (colour != 0 && colour != 2 && colour != 4 && colour != 6) return "colour type not handled";
      if (data[10] != 0 || data[11] != 0) return "unknown compression or filter method";
      if (data[12] != 0) return "interlaced";
      file_channels = colour == 0 ? 1 : colour == 2 ? 3 : colour == 4 ? 2 : 4;
      if ((colour == 0 || colour == 4 ? 1 : 3) != r.channels) return "IHDR channels differ from the request";
      rows = std::make_unique<Rows>(z, r, file_channels, out);
      if (std::string err = rows->Open(); !err.empty()) return err;
      continue;
    }
    if (Ancillary(type, "IDAT")) {
      if (idat_closed) return "IDAT chunks not consecutive";
      seen_idat = true;
      if (std::string err = rows->Feed(data, len); !err.empty()) return err;
      continue;
    }
    if (seen_idat) idat_closed = true;
    if (Ancillary(type, "IEND")) {
      if (!seen_idat) return "no IDAT";
      if (!rows->Complete()) return "image data ends early (truncated zlib stream)";
      return "";
    }
    // Chunks that never change the pixels sharp returns, when well formed (libspng checks them too, and
    // an odd one is sharp's to judge); anything else is sharp's to interpret.
    if (Ancillary(type, "pHYs")) {
      if (seen_phys || seen_idat || len != 9 || data[8] > 1 || Be32(data) > 0x7fffffffu || Be32(data + 4) > 0x7fffffffu)
        return "pHYs chunk not handled";
      seen_phys = true;
      continue;
    }
    if (Ancillary(type, "tIME")) {
      if (seen_time || len != 7 || data[2] < 1 || data[2] > 12 || data[3] < 1 || data[3] > 31 || data[4] > 23 ||
          data[5] > 59 || data[6] > 60)
        return "tIME chunk not handled";
      seen_time = true;
      continue;
    }
    if (Ancillary(type, "tEXt")) {
      if (!PlainText(data, len)) return "tEXt chunk not handled";
      continue;
    }
    return std::string("chunk ") + std::string(reinterpret_cast<const char*>(type), 4) + " not handled";
  }
}

const char* PngZlibName() { return FindZlib().name; }

}  // namespace maskbox::cpu

// ---- N-API binding (left out of the fuzz build, which defines MASKBOX_CORE_ONLY) ----
#ifndef MASKBOX_CORE_ONLY
#include "common.h"

namespace maskbox::cpu {
namespace {

class PngDecodeWorker : public Worker {
 public:
  using Worker::Worker;
  View<const uint8_t> bytes;
  View<uint8_t> out;
  PngDecodeRequest request;

  void Run() override { reason_ = DecodePng(bytes.data, bytes.length, request, out.data, out.length); }
  Napi::Value Result(Napi::Env env) override { return Napi::String::New(env, reason_); }

 private:
  std::string reason_;
};

}  // namespace

// JS: addon.pngDecode({ bytes, out, width, height, channels, bitDepth }) -> Promise<string>:
// '' when `out` holds the pixels, else why the file was declined (the caller then uses sharp).
Napi::Value JsPngDecode(const Napi::CallbackInfo& info) {
  Args args(info, "pngDecode");
  auto w = std::make_unique<PngDecodeWorker>(info.Env(), "pngDecode");
  w->request.width = static_cast<uint32_t>(args.Integer("width", 1, 0x7fffffff));
  w->request.height = static_cast<uint32_t>(args.Integer("height", 1, 0x7fffffff));
  w->request.channels = static_cast<int>(args.Integer("channels", 1, 3));
  if (w->request.channels == 2) args.RangeFail("channels", "1 or 3", "2");
  w->request.bit_depth = static_cast<int>(args.Integer("bitDepth", 8, 16));
  if (w->request.bit_depth != 8 && w->request.bit_depth != 16)
    args.RangeFail("bitDepth", "8 or 16", std::to_string(w->request.bit_depth));
  w->bytes = w->HoldConst(args.Uint8("bytes"));
  w->out = w->Hold(args.Uint8("out"));
  const size_t expect = CheckedMul(CheckedMul(CheckedMul(w->request.width, w->request.height), w->request.channels),
                                   w->request.bit_depth / 8);
  args.Length("out", w->out.length, expect, "width * height * channels * bitDepth / 8 bytes");
  return Worker::Start(std::move(w));
}

// JS: addon.pngZlib() -> the zlib symbol prefix found in the process ('Cr_z_' or ''), or null (sync).
Napi::Value JsPngZlib(const Napi::CallbackInfo& info) {
  const char* name = PngZlibName();
  return name ? Napi::String::New(info.Env(), name) : info.Env().Null();
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
