// RLE decode on the CPU: [C, H, W] 0/1 masks from run lists, from competition RLE strings (row or
// column order) or from pycocotools' compressed counts strings. Equals src/backends/js/rle.ts rleDecode
// fed by parseRle / cocoRleFromString; the string parsers are plain C++ (fuzzed by fuzz/) and fail with
// the JS ParseError's message, which the TS wrapper (src/backends/cpu/rle.ts) turns into a ParseError
// naming the source.
// JS: addon.rleDecode({ runs | rle | coco, height, width, order, out }) -> Promise<void>
//   runs: Uint32Array[] (one per channel); rle: string[]; coco: string[] (needs order 'col');
//   out: Uint8Array [C * height * width], allocated in JS: every byte is written, or only the 1s with
//   `zeroed: true` (the caller promises it is all 0, e.g. a fresh Uint8Array).
//   A malformed string rejects with an Error whose code is 'ERR_MASKBOX_NATIVE_PARSE', `channel` the
//   first bad channel and `reason` the JS parser's message.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include "cpu/rle.h"
#include "pool.h"

namespace maskbox::cpu {

std::string JsNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "Infinity" : "-Infinity";
  if (std::isnan(v)) return "NaN";
  if (v >= 0 && v < 9007199254740992.0 && std::floor(v) == v) return std::to_string(static_cast<uint64_t>(v));
  // Shortest round-trip digits (the correctly rounded p-digit decimal for the smallest p that
  // round-trips), then laid out as Number#toString does for integers.
  char buf[64];
  for (int p = 1; p <= 17; p++) {
    std::snprintf(buf, sizeof buf, "%.*e", p - 1, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s(buf);
  const size_t e = s.find('e');
  std::string digits = s.substr(0, 1) + (e > 2 ? s.substr(2, e - 2) : "");
  const int n = std::atoi(s.c_str() + e + 1) + 1;  // position of the decimal point
  const int k = static_cast<int>(digits.size());
  if (k <= n && n <= 21) return digits + std::string(static_cast<size_t>(n - k), '0');
  if (n > 21) return digits.substr(0, 1) + (k > 1 ? "." + digits.substr(1) : "") + "e+" + std::to_string(n - 1);
  return s;  // fractions do not occur in these messages
}

namespace {

inline bool IsSpace(uint32_t c) { return c == 32 || (c >= 9 && c <= 13); }

/**
 * Code units [a, b) as UTF-8 (UTF-16 pairs combined; bytes copied). A lone surrogate is written as its
 * 3-byte form (WTF-8), so that the binding can give JS back exactly the units the JS parser would show.
 */
template <typename Ch>
std::string Excerpt(const Ch* s, size_t a, size_t b) {
  std::string out;
  for (size_t i = a; i < b; i++) {
    uint32_t u = static_cast<std::make_unsigned_t<Ch>>(s[i]);
    if (sizeof(Ch) == 1 || u < 0x80) {
      out.push_back(static_cast<char>(u));
      continue;
    }
    if (u >= 0xd800 && u < 0xdc00 && i + 1 < b) {
      const uint32_t lo = static_cast<std::make_unsigned_t<Ch>>(s[i + 1]);
      if (lo >= 0xdc00 && lo < 0xe000) {
        u = 0x10000 + ((u - 0xd800) << 10) + (lo - 0xdc00);
        i++;
      }
    }
    if (u < 0x800) {
      out += {static_cast<char>(0xc0 | (u >> 6)), static_cast<char>(0x80 | (u & 0x3f))};
    } else if (u < 0x10000) {
      out += {static_cast<char>(0xe0 | (u >> 12)), static_cast<char>(0x80 | ((u >> 6) & 0x3f)),
              static_cast<char>(0x80 | (u & 0x3f))};
    } else {
      out += {static_cast<char>(0xf0 | (u >> 18)), static_cast<char>(0x80 | ((u >> 12) & 0x3f)),
              static_cast<char>(0x80 | ((u >> 6) & 0x3f)), static_cast<char>(0x80 | (u & 0x3f))};
    }
  }
  return out;
}

/** The token's value as JS computes it (`v = v * 10 + d` in float64), for messages. */
template <typename Ch>
double JsTokenValue(const Ch* s, size_t a, size_t b) {
  double v = 0;
  for (size_t i = a; i < b; i++) v = v * 10 + static_cast<double>(static_cast<std::make_unsigned_t<Ch>>(s[i]) - 48);
  return v;
}

}  // namespace

template <typename Ch>
bool ParseRle(const Ch* s, size_t len, uint64_t pixels, std::vector<uint32_t>* runs, std::string* error) {
  runs->clear();
  // Values past kBig are out of range whatever the token (pixels < 2^32); stop growing them there.
  constexpr uint64_t kBig = uint64_t{1} << 40;
  size_t i = 0;
  uint64_t tok = 0, start = 0, prev_end = 0;
  const auto fail = [&](size_t t0, size_t t1, const std::string& msg) {
    *error = "RLE token " + std::to_string(tok) + " ('" + Excerpt(s, t0, std::min(t1, t0 + 24)) + "', character " +
             std::to_string(t0 + 1) + "): " + msg;
    return false;
  };
  for (;;) {
    while (i < len && IsSpace(static_cast<std::make_unsigned_t<Ch>>(s[i]))) i++;
    if (i >= len) break;
    const size_t t0 = i;
    uint64_t v = 0;
    bool bad = false;
    for (; i < len; i++) {
      const uint32_t c = static_cast<std::make_unsigned_t<Ch>>(s[i]);
      if (IsSpace(c)) break;
      const uint32_t d = c - 48;
      if (d > 9) bad = true;
      else if (v <= kBig) v = v * 10 + d;
    }
    tok++;
    if (bad) return fail(t0, i, "not a non-negative integer");
    if (tok & 1) {
      if (v < 1 || v > pixels) return fail(t0, i, "start outside 1.." + std::to_string(pixels));
      if (v - 1 < prev_end) {
        return fail(t0, i,
                    "run starts before the end of the previous run (pixel " + std::to_string(prev_end) +
                        "): runs must be sorted and not overlap");
      }
      start = v - 1;
    } else {
      if (start + v > pixels) {
        return fail(t0, i,
                    "run " + std::to_string(start + 1) + "+" + JsNumber(JsTokenValue(s, t0, i)) +
                        " ends past the last pixel " + std::to_string(pixels));
      }
      prev_end = start + v;
      if (v == 0) continue;
      runs->push_back(static_cast<uint32_t>(start));
      runs->push_back(static_cast<uint32_t>(v));
    }
  }
  if (tok & 1) {
    *error = "odd number of RLE tokens (" + std::to_string(tok) + "): the last start has no length";
    return false;
  }
  return true;
}

template bool ParseRle<char>(const char*, size_t, uint64_t, std::vector<uint32_t>*, std::string*);
template bool ParseRle<char16_t>(const char16_t*, size_t, uint64_t, std::vector<uint32_t>*, std::string*);

std::string CheckRuns(const uint32_t* r, size_t n, uint64_t pixels) {
  if (n % 2 != 0) return "a Uint32Array of even length (start, length pairs) but received length " + std::to_string(n);
  uint64_t prev_end = 0;
  for (size_t k = 0; k < n; k += 2) {
    const uint64_t s = r[k], e = s + r[k + 1];
    if (e > pixels) {
      return "runs inside 0.." + std::to_string(pixels) + " but run " + std::to_string(k / 2) + " (start " +
             std::to_string(s) + ", length " + std::to_string(r[k + 1]) + ") ends at " + std::to_string(e);
    }
    if (s < prev_end) {
      return "runs sorted and not overlapping but run " + std::to_string(k / 2) + " starts at " + std::to_string(s) +
             ", before " + std::to_string(prev_end);
    }
    prev_end = e;
  }
  return "";
}

namespace {

/** memset that accepts a null pointer with length 0 (an empty vector's or typed array's data()). */
inline void Fill(uint8_t* p, int v, uint64_t len) {
  if (len) std::memset(p, v, static_cast<size_t>(len));
}

/**
 * Writes bytes [from, to) of a channel flattened in its runs' order: 1 inside runs, 0 elsewhere (only the
 * 1s when `zeroed`: the bytes are known to be 0, as in a fresh JS Uint8Array, whose untouched pages
 * then stay unmapped, as they do for the JS kernel).
 */
void FillRange(const uint32_t* r, size_t n, uint64_t from, uint64_t to, uint8_t* out, bool zeroed) {
  size_t lo = 0, hi = n / 2;  // first run ending after `from` (valid runs: ends are non-decreasing)
  while (lo < hi) {
    const size_t mid = (lo + hi) / 2;
    if (uint64_t{r[2 * mid]} + r[2 * mid + 1] <= from) lo = mid + 1;
    else hi = mid;
  }
  uint64_t pos = from;
  for (size_t k = 2 * lo; k + 1 < n && r[k] < to; k += 2) {
    const uint64_t s = std::max<uint64_t>(r[k], pos), e = std::min<uint64_t>(uint64_t{r[k]} + r[k + 1], to);
    if (e <= s) continue;
    if (!zeroed) Fill(out + pos, 0, s - pos);
    Fill(out + s, 1, e - s);
    pos = e;
  }
  if (!zeroed) Fill(out + pos, 0, to - pos);
}

}  // namespace

void DecodeChannel(const uint32_t* r, size_t n, uint32_t h, uint32_t w, RleOrder order, uint8_t* out,
                   DecodeScratch* s, bool zeroed) {
  const size_t px = size_t{h} * w;
  if (order == RleOrder::kRow || h <= 1 || w <= 1) {
    FillRange(r, n, 0, px, out, zeroed);
    return;
  }
  // Column order: sparse masks are written pixel by pixel down the columns; dense ones are filled in
  // the [W, H] transpose and transposed back in cache blocks.
  if (RunsArea(r, n) * 16 < px) {
    if (!zeroed) Fill(out, 0, px);
    for (size_t k = 0; k + 1 < n; k += 2) {
      size_t x = r[k] / h, y = r[k] % h;
      for (uint32_t i = 0; i < r[k + 1]; i++) {
        out[y * w + x] = 1;
        if (++y == h) {
          y = 0;
          x++;
        }
      }
    }
    return;
  }
  s->bytes.resize(px);
  FillRange(r, n, 0, px, s->bytes.data(), false);
  TransposeBytes(s->bytes.data(), w, h, out);
}

}  // namespace maskbox::cpu

// ---- N-API binding (left out of the fuzz build, which defines MASKBOX_CORE_ONLY) ----
#ifndef MASKBOX_CORE_ONLY
#include "cpu/rleNapi.h"

namespace maskbox::cpu {
namespace {

/** Row-order channels are written in pieces of this many bytes in parallel. */
constexpr size_t kPiece = size_t{1} << 20;

enum class DecodeInput { kRuns, kRle, kCoco };

class RleDecodeWorker : public Worker {
 public:
  using Worker::Worker;
  DecodeInput input = DecodeInput::kRuns;
  std::vector<View<const uint32_t>> runs;  // kRuns
  std::vector<std::u16string> texts;       // kRle, kCoco
  Shape shape;
  RleOrder order = RleOrder::kRow;
  View<uint8_t> out;
  bool zeroed = false;  // `out` is known to be all 0 (write only the 1s)
  // A string that does not parse: the first such channel and the JS parser's message.
  int64_t bad_channel = -1;
  std::string bad_reason;

  void Run() override {
    const size_t channels = input == DecodeInput::kRuns ? runs.size() : texts.size();
    const size_t n = shape.pixels;
    std::vector<std::vector<uint32_t>> parsed(input == DecodeInput::kRuns ? 0 : channels);
    std::vector<std::string> errors(channels);
    pool::ParallelFor(channels, 1, [&](size_t begin, size_t end) {
      std::vector<uint32_t> counts;
      for (size_t c = begin; c < end; c++) {
        if (input == DecodeInput::kRuns) {
          errors[c] = CheckRuns(runs[c].data, runs[c].length, n);
        } else if (input == DecodeInput::kRle) {
          ParseRle(texts[c].data(), texts[c].size(), n, &parsed[c], &errors[c]);
        } else if (ParseCocoString(texts[c].data(), texts[c].size(), shape.height, shape.width, &counts, &errors[c])) {
          CountsToRuns(counts.data(), counts.size(), &parsed[c]);
        }
        if (input != DecodeInput::kRuns) std::u16string().swap(texts[c]);
      }
    });
    for (size_t c = 0; c < channels; c++) {
      if (errors[c].empty()) continue;
      if (input == DecodeInput::kRuns) throw std::invalid_argument("runs[" + std::to_string(c) + "]: expected " + errors[c]);
      bad_channel = static_cast<int64_t>(c);
      bad_reason = errors[c];
      return;
    }
    const auto list = [&](size_t c, const uint32_t** r, size_t* len) {
      if (input == DecodeInput::kRuns) *r = runs[c].data, *len = runs[c].length;
      else *r = parsed[c].data(), *len = parsed[c].size();
    };
    if (order == RleOrder::kRow || shape.height <= 1 || shape.width <= 1) {
      const size_t pieces = n == 0 ? 0 : (n + kPiece - 1) / kPiece;
      pool::ParallelFor(channels * pieces, 1, [&](size_t begin, size_t end) {
        for (size_t it = begin; it < end; it++) {
          const size_t c = it / pieces, from = (it % pieces) * kPiece, to = std::min(n, from + kPiece);
          const uint32_t* r;
          size_t len;
          list(c, &r, &len);
          FillRange(r, len, from, to, out.data + c * n, zeroed);
        }
      });
    } else {
      pool::ParallelFor(channels, 1, [&](size_t begin, size_t end) {
        DecodeScratch scratch;
        for (size_t c = begin; c < end; c++) {
          const uint32_t* r;
          size_t len;
          list(c, &r, &len);
          DecodeChannel(r, len, shape.height, shape.width, RleOrder::kCol, out.data + c * n, &scratch, zeroed);
        }
      });
    }
  }

  Napi::Value Result(Napi::Env env) override {
    if (bad_channel >= 0) {
      Napi::String reason = FromWtf8(env, bad_reason);
      Napi::Error e = Napi::Error::New(env, "maskbox native rleDecode: " + reason.Utf8Value());
      e.Set("code", Napi::String::New(env, "ERR_MASKBOX_NATIVE_PARSE"));
      e.Set("channel", Napi::Number::New(env, static_cast<double>(bad_channel)));
      e.Set("reason", reason);
      throw e;
    }
    return env.Undefined();
  }
};

}  // namespace

Napi::Value JsRleDecode(const Napi::CallbackInfo& info) {
  Args args(info, "rleDecode");
  Napi::Object o = Options(info);
  auto w = std::make_unique<RleDecodeWorker>(info.Env(), "rleDecode");
  w->shape = ReadShape(args);
  w->order = ReadOrder(args);
  const bool has_runs = !o.Get("runs").IsUndefined(), has_rle = !o.Get("rle").IsUndefined(),
             has_coco = !o.Get("coco").IsUndefined();
  if (int(has_runs) + int(has_rle) + int(has_coco) != 1) {
    args.TypeFail("runs", "exactly one of runs (Uint32Array[]), rle (string[]) or coco (string[])",
                  std::to_string(int(has_runs) + int(has_rle) + int(has_coco)) + " of them");
  }
  size_t channels = 0;
  if (has_runs) {
    w->input = DecodeInput::kRuns;
    w->runs = HoldArrays<uint32_t>(w.get(), args, o, "runs", napi_uint32_array, "Uint32Array", UINT32_MAX);
    channels = w->runs.size();
  } else {
    w->input = has_rle ? DecodeInput::kRle : DecodeInput::kCoco;
    w->texts = StringArray(args, o, has_rle ? "rle" : "coco");
    channels = w->texts.size();
    if (has_coco && w->order != RleOrder::kCol) {
      args.RangeFail("order", "'col' with coco strings (COCO counts are column-major)", "'row'");
    }
  }
  auto out = args.Uint8("out");
  size_t expected = 0;
  try {
    expected = CheckedMul(channels, w->shape.pixels);
  } catch (const std::overflow_error&) {
    args.RangeFail("out", "channels * height * width that fits in memory", std::to_string(channels) + " channels");
  }
  args.Length("out", out.ElementLength(), expected, "a Uint8Array of length channels * height * width");
  w->out = w->Hold(out);
  const Napi::Value zeroed = o.Get("zeroed");
  w->zeroed = !zeroed.IsUndefined() && args.Boolean("zeroed");
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
