// RLE encode on the CPU: runs of every channel of a [C, H, W] uint8 mask (non-zero = 1), in row or
// column order, optionally formatted as competition strings, COCO counts or COCO compressed strings.
// Output equals src/backends/js/rle.ts rleEncode (runs are canonical: maximal, sorted).
// JS: addon.rleEncode({ mask, channels, height, width, order: 'row' | 'col',
//   format?: 'runs' | 'rle' | 'coco' | 'cocoString' }) -> Promise<Uint32Array[] | string[]>
//   ('coco' / 'cocoString' need order 'col').
#include <algorithm>
#include <cstring>

#include "cpu/rle.h"
#include "pool.h"

#if defined(__SSE2__) && !defined(MASKBOX_NO_SIMD)
#include <emmintrin.h>
#define MASKBOX_RLE_SSE2 1
#endif

namespace maskbox::cpu {

namespace {

/** Bit k set where byte k of the 64 bytes at p is non-zero. */
inline uint64_t NonZeroMask64(const uint8_t* p) {
#ifdef MASKBOX_RLE_SSE2
  const __m128i z = _mm_setzero_si128();
  const auto eq = [&](int k) {
    return static_cast<uint64_t>(static_cast<uint32_t>(
        _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k)), z))));
  };
  return ~(eq(0) | eq(1) << 16 | eq(2) << 32 | eq(3) << 48);
#else
  uint64_t m = 0;
  for (int k = 0; k < 8; k++) {
    uint64_t w;
    std::memcpy(&w, p + 8 * k, 8);
    // High bit of each byte set where the byte is non-zero, then gathered into 8 bits.
    const uint64_t hi = (((w & 0x7f7f7f7f7f7f7f7fULL) + 0x7f7f7f7f7f7f7f7fULL) | w) & 0x8080808080808080ULL;
    m |= ((hi * 0x0002040810204081ULL) >> 56) << (8 * k);
  }
  return m;
#endif
}

/** Whether the 64 bytes at p are all zero (one OR-reduction, 8 bytes a word). */
inline bool AllZero64(const uint8_t* p) {
  uint64_t w[8];
  std::memcpy(w, p, 64);
  return ((w[0] | w[1]) | (w[2] | w[3]) | (w[4] | w[5]) | (w[6] | w[7])) == 0;
}

}  // namespace

void ScanRuns(const uint8_t* m, size_t n, uint32_t base, std::vector<uint32_t>* out) {
  uint64_t prev = 0;   // 1 when the byte before the current block is non-zero
  uint64_t start = 0;  // start of the open run (when prev)
  // Edges of a block: bit k set where byte k differs from byte k-1; rising edges open runs.
  const auto edges = [&](uint64_t ones, size_t at) {
    uint64_t e = ones ^ ((ones << 1) | prev);
    while (e) {
      const int k = __builtin_ctzll(e);
      e &= e - 1;
      const uint64_t pos = at + static_cast<uint64_t>(k);
      if ((ones >> k) & 1) {
        start = pos;
      } else {
        out->push_back(static_cast<uint32_t>(base + start));
        out->push_back(static_cast<uint32_t>(pos - start));
      }
    }
    prev = ones >> 63;
  };
  size_t i = 0;
  for (; i + 64 <= n; i += 64) {
    if (!prev && AllZero64(m + i)) continue;  // the common case: background
    const uint64_t ones = NonZeroMask64(m + i);
    if (ones == (prev ? ~uint64_t{0} : 0)) continue;  // inside a run
    edges(ones, i);
  }
  if (i < n) {  // tail: bytes past n count as 0, so an open run closes at n
    uint64_t ones = 0;
    for (size_t k = 0; i + k < n; k++) ones |= static_cast<uint64_t>(m[i + k] != 0) << k;
    edges(ones, i);
  }
  if (prev) {  // a run reaching the end of a 64-byte-multiple length
    out->push_back(static_cast<uint32_t>(base + start));
    out->push_back(static_cast<uint32_t>(n - start));
  }
}

namespace {

/** Calls fn(x0, x1) for each maximal range of the intervals a (pairs [x0, x1)) not covered by b. */
template <typename Fn>
void Difference(const std::vector<uint32_t>& a, const std::vector<uint32_t>& b, Fn&& fn) {
  size_t j = 0;
  const size_t nb = b.size();
  for (size_t i = 0; i < a.size(); i += 2) {
    const uint32_t lo = a[i], hi = a[i + 1];
    while (j < nb && b[j + 1] <= lo) j += 2;
    uint32_t x = lo;
    for (size_t k = j; x < hi; k += 2) {
      const uint32_t bs = k < nb ? b[k] : hi;
      if (bs >= hi) {
        fn(x, hi);
        break;
      }
      if (bs > x) fn(x, bs);
      x = std::max(x, b[k + 1]);
    }
  }
}

}  // namespace

void TransposeRuns(const uint32_t* r, size_t n, uint32_t rows, uint32_t cols, std::vector<uint32_t>* out,
                   TransposeScratch* s) {
  out->clear();
  if (n == 0 || rows == 0 || cols == 0) return;
  std::vector<uint32_t>& segs = s->segs;  // triples x, y0, y1: column x is set over rows [y0, y1)
  std::vector<uint32_t>& open = s->open;  // row where the vertical run open in column x started
  std::vector<uint32_t>& prev = s->prev;  // intervals [x0, x1) of the last row that had any
  std::vector<uint32_t>& cur = s->cur;
  segs.clear();
  prev.clear();
  open.assign(cols, 0);
  int64_t py = -2;
  size_t k = 0;
  uint64_t carry = 0;  // pixels of run k already consumed (runs span rows)
  const auto close_all = [&](uint32_t at) {
    for (size_t i = 0; i < prev.size(); i += 2)
      for (uint32_t x = prev[i]; x < prev[i + 1]; x++) segs.insert(segs.end(), {x, open[x], at});
  };
  while (k + 1 < n) {
    // Intervals of the next row that has any: split run k at row ends.
    const uint64_t pos = uint64_t{r[k]} + carry;
    const uint32_t y = static_cast<uint32_t>(pos / cols);
    const uint64_t row_start = uint64_t{y} * cols, row_end = row_start + cols;
    cur.clear();
    while (k + 1 < n) {
      const uint64_t st = uint64_t{r[k]} + carry, e = uint64_t{r[k]} + r[k + 1];
      if (st >= row_end) break;
      cur.push_back(static_cast<uint32_t>(st - row_start));
      cur.push_back(static_cast<uint32_t>(std::min(e, row_end) - row_start));
      if (e > row_end) {
        carry = row_end - r[k];
        break;
      }
      carry = 0;
      k += 2;
    }
    if (static_cast<int64_t>(y) != py + 1) {
      close_all(static_cast<uint32_t>(py + 1));
      for (size_t i = 0; i < cur.size(); i += 2) std::fill(open.begin() + cur[i], open.begin() + cur[i + 1], y);
    } else {
      // Columns only in the previous row end at y; columns only in this row start at y.
      Difference(prev, cur, [&](uint32_t x0, uint32_t x1) {
        for (uint32_t x = x0; x < x1; x++) segs.insert(segs.end(), {x, open[x], y});
      });
      Difference(cur, prev, [&](uint32_t x0, uint32_t x1) { std::fill(open.begin() + x0, open.begin() + x1, y); });
    }
    prev.swap(cur);
    py = y;
  }
  close_all(static_cast<uint32_t>(py + 1));
  // Counting sort by column (stable: within a column, segments were closed in row order).
  const size_t m = segs.size() / 3;
  std::vector<uint32_t>& first = s->first;
  std::vector<uint32_t>& order = s->order;
  first.assign(size_t{cols} + 1, 0);
  for (size_t i = 0; i < m; i++) first[segs[3 * i] + 1]++;
  for (size_t c = 0; c < cols; c++) first[c + 1] += first[c];
  order.resize(m);
  for (size_t i = 0; i < m; i++) order[first[segs[3 * i]]++] = static_cast<uint32_t>(i);
  uint64_t last_end = UINT64_MAX;
  for (size_t t = 0; t < m; t++) {
    const size_t i = order[t];
    const uint64_t start = uint64_t{segs[3 * i]} * rows + segs[3 * i + 1];
    const uint32_t len = segs[3 * i + 2] - segs[3 * i + 1];
    if (start == last_end) {
      out->back() += len;  // a run down one column's end and the next column's top
    } else {
      out->push_back(static_cast<uint32_t>(start));
      out->push_back(len);
    }
    last_end = start + len;
  }
}

void TransposeBytes(const uint8_t* src, size_t rows, size_t cols, uint8_t* dst) {
  constexpr size_t B = 64;
  for (size_t r0 = 0; r0 < rows; r0 += B) {
    const size_t r1 = std::min(rows, r0 + B);
    for (size_t c0 = 0; c0 < cols; c0 += B) {
      const size_t c1 = std::min(cols, c0 + B);
      for (size_t c = c0; c < c1; c++) {
        uint8_t* d = dst + c * rows;
        const uint8_t* s = src + c;
        for (size_t r = r0; r < r1; r++) d[r] = s[r * cols];
      }
    }
  }
}

namespace {

/** "00".."99": two digits per table lookup. */
constexpr char kDigits2[201] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";

inline int DecimalLength(uint64_t v) {
  int d = 1;
  for (uint64_t p = 10; d < 20 && v >= p; p *= 10) d++;
  return d;
}

/** Writes v in decimal ending just before `end` (DecimalLength(v) chars); returns the first char. */
inline char* WriteDecimal(uint64_t v, char* end) {
  while (v >= 100) {
    const uint64_t q = v / 100;
    const size_t r = static_cast<size_t>(v - q * 100) * 2;
    *--end = kDigits2[r + 1];
    *--end = kDigits2[r];
    v = q;
  }
  if (v >= 10) {
    *--end = kDigits2[v * 2 + 1];
    *--end = kDigits2[v * 2];
  } else {
    *--end = static_cast<char>('0' + v);
  }
  return end;
}

}  // namespace

void FormatRle(const uint32_t* runs, size_t n, std::string* out) {
  size_t len = n > 0 ? n - 1 : 0;  // separators
  for (size_t k = 0; k < n; k++) len += static_cast<size_t>(DecimalLength((k & 1) ? uint64_t{runs[k]} : uint64_t{runs[k]} + 1));
  const size_t at = out->size();
  out->resize(at + len);
  char* p = out->data() + at;
  for (size_t k = 0; k < n; k++) {
    const uint64_t v = (k & 1) ? uint64_t{runs[k]} : uint64_t{runs[k]} + 1;
    if (k > 0) *p++ = ' ';
    p += DecimalLength(v);
    WriteDecimal(v, p);
  }
}

}  // namespace maskbox::cpu

// ---- N-API binding (left out of the fuzz build, which defines MASKBOX_CORE_ONLY) ----
#ifndef MASKBOX_CORE_ONLY
#include "cpu/rleNapi.h"

namespace maskbox::cpu {
namespace {

enum class EncodeFormat { kRuns, kRle, kCoco, kCocoString };

/** Pieces of a channel scanned in parallel (a multiple of 64 bytes); runs crossing a seam are merged. */
constexpr size_t kPiece = size_t{1} << 20;

class RleEncodeWorker : public Worker {
 public:
  using Worker::Worker;
  View<const uint8_t> mask;
  size_t channels = 0;
  uint32_t height = 0, width = 0;
  RleOrder order = RleOrder::kRow;
  EncodeFormat format = EncodeFormat::kRuns;
  std::vector<std::vector<uint32_t>> runs;  // per channel: runs, or COCO counts
  std::vector<std::string> strings;

  RleRunsKernel runs_kernel = nullptr;  // set: it computes the runs (the cuda build), this formats them

  void Run() override {
    const size_t n = size_t{height} * width;
    if (runs_kernel) {
      runs = runs_kernel(mask.data, channels, height, width, order);
      if (format == EncodeFormat::kRle || format == EncodeFormat::kCocoString) strings.assign(channels, {});
      std::vector<uint32_t> tmp;
      for (size_t c = 0; c < channels; c++) Format(c, n, &tmp);
      return;
    }
    runs.assign(channels, {});
    // 1. Row-order runs, channels x pieces in parallel.
    const size_t pieces = n == 0 ? 0 : (n + kPiece - 1) / kPiece;
    std::vector<std::vector<uint32_t>> part(pieces > 1 ? channels * pieces : 0);
    pool::ParallelFor(channels * pieces, 1, [&](size_t begin, size_t end) {
      for (size_t it = begin; it < end; it++) {
        const size_t c = it / pieces, p = it % pieces, off = p * kPiece, len = std::min(kPiece, n - off);
        ScanRuns(mask.data + c * n + off, len, static_cast<uint32_t>(off), pieces > 1 ? &part[it] : &runs[c]);
      }
    });
    // 2. Per channel: merge pieces, change order, format.
    const bool col = order == RleOrder::kCol && height > 1 && width > 1;
    if (format == EncodeFormat::kRle || format == EncodeFormat::kCocoString) strings.assign(channels, {});
    pool::ParallelFor(channels, 1, [&](size_t begin, size_t end) {
      TransposeScratch ts;
      std::vector<uint32_t> tmp, bytes_runs;
      std::vector<uint8_t> bytes;
      for (size_t c = begin; c < end; c++) {
        std::vector<uint32_t>& r = runs[c];
        if (pieces > 1) {
          size_t total = 0;
          for (size_t p = 0; p < pieces; p++) total += part[c * pieces + p].size();
          r.reserve(total);
          for (size_t p = 0; p < pieces; p++) {
            std::vector<uint32_t>& q = part[c * pieces + p];
            size_t k = 0;
            if (!q.empty() && !r.empty() && uint64_t{r[r.size() - 2]} + r.back() == q[0]) {
              r.back() += q[1];
              k = 2;
            }
            r.insert(r.end(), q.begin() + static_cast<std::ptrdiff_t>(k), q.end());
            std::vector<uint32_t>().swap(q);
          }
        }
        if (col) {
          if (static_cast<double>(r.size() / 2) <= static_cast<double>(n) * kDenseRunsPerPixel) {
            TransposeRuns(r.data(), r.size(), height, width, &tmp, &ts);
          } else {
            bytes.resize(n);
            TransposeBytes(mask.data + c * n, height, width, bytes.data());
            tmp.clear();
            ScanRuns(bytes.data(), n, 0, &tmp);
          }
          r.swap(tmp);
        }
        Format(c, n, &tmp);
      }
    });
  }

  // Channel c's runs (final order) -> the requested format.
  void Format(size_t c, size_t n, std::vector<uint32_t>* tmp) {
    std::vector<uint32_t>& r = runs[c];
    switch (format) {
      case EncodeFormat::kRuns: break;
      case EncodeFormat::kRle: FormatRle(r.data(), r.size(), &strings[c]); break;
      case EncodeFormat::kCoco:
      case EncodeFormat::kCocoString:
        RunsToCounts(r.data(), r.size(), n, tmp);
        if (format == EncodeFormat::kCoco) r.swap(*tmp);
        else FormatCocoString(tmp->data(), tmp->size(), &strings[c]);
        break;
    }
  }

  Napi::Value Result(Napi::Env env) override {
    if (format == EncodeFormat::kRle || format == EncodeFormat::kCocoString) return ToAsciiStringArray(env, strings);
    return ToUint32Arrays(env, runs);
  }
};

}  // namespace

// The binding with a given runs kernel (the cuda build passes its own: native/cuda/addon_cuda.cc).
Napi::Value JsRleEncodeWith(const Napi::CallbackInfo& info, RleRunsKernel kernel, const char* op);

Napi::Value JsRleEncode(const Napi::CallbackInfo& info) { return JsRleEncodeWith(info, nullptr, "rleEncode"); }

Napi::Value JsRleEncodeWith(const Napi::CallbackInfo& info, RleRunsKernel kernel, const char* op) {
  Args args(info, op);
  auto w = std::make_unique<RleEncodeWorker>(info.Env(), op);
  w->runs_kernel = kernel;
  auto mask = args.Uint8("mask");
  const Shape shape = ReadShape(args);
  w->height = shape.height;
  w->width = shape.width;
  // With no pixels the JS op passes one channel; cap the count so no length can make it allocate much.
  w->channels = static_cast<size_t>(args.Integer("channels", 0, shape.pixels == 0 ? 65536 : UINT32_MAX));
  size_t expected = 0;
  try {
    expected = CheckedMul(w->channels, shape.pixels);
  } catch (const std::overflow_error&) {
    args.RangeFail("channels", "channels * height * width that fits in memory", std::to_string(w->channels));
  }
  args.Length("mask", mask.ElementLength(), expected, "a Uint8Array of length channels * height * width");
  w->order = ReadOrder(args);
  const std::string format = OptionalString(args, Options(info), "format", "runs");
  if (format == "runs") w->format = EncodeFormat::kRuns;
  else if (format == "rle") w->format = EncodeFormat::kRle;
  else if (format == "coco") w->format = EncodeFormat::kCoco;
  else if (format == "cocoString") w->format = EncodeFormat::kCocoString;
  else args.RangeFail("format", "one of runs, rle, coco, cocoString", "'" + format + "'");
  if ((w->format == EncodeFormat::kCoco || w->format == EncodeFormat::kCocoString) && w->order != RleOrder::kCol) {
    args.RangeFail("order", "'col' with a COCO format (COCO counts are column-major)", "'row'");
  }
  w->mask = w->HoldConst(mask);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
