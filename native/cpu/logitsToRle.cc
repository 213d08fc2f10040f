// Fused hand-bone post-process: logits [C, h, w] -> bilinear [C, H, W] -> `logit > cutoff` -> row-major
// RLE strings (1-based `start length` pairs) and areas, without materialising the H x W float plane.
// Equal, string for string, to src/backends/js/logitsToRle.ts (resize kernel + threshold + RLE encode).
//
// How: bilinear interpolation is a convex combination of a source cell's 4 corners, so every output
// pixel whose cell has all corners clearly above (below) the cutoff is 1 (0) without computing it.
// "Clearly": torch's float32 rounding moves an interpolated value at most ~6 * 2^-24 * max|corner| outside
// [min corner, max corner] (two lerps, each: weights summing to 1 within 2^-24, f32(b * wb), one double
// add, one rounding), so a margin of 1e-6 * max|corner| + 1e-30 leaves the decision certain. Only pixels
// of straddling ("mixed") cells are interpolated, with exactly the reference's arithmetic (LerpF32 along
// the width, then the height). Per class and source row pair, the cells are classified once (vectorised)
// into spans of output columns, and the two source rows are interpolated along the width at the mixed
// spans' columns only; each output row then walks the spans, extending or closing runs (a run continues
// across row ends, as the flattening does), and finishes mixed spans with one lerp per pixel.
// Work: O(C*h*w) classification (reads the input once) + O(C*H*spans) + mixed pixels + the output text.
// Parallel over (class, block of output rows) tasks on the shared pool; blocks are joined per class.
// JS: addon.logitsToRle({ data, channels, inHeight, inWidth, outHeight, outWidth, cutoff })
//       -> Promise<{ rle: string[], areas: number[] }>
#include "cpu/logitsToRle.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <stdexcept>
#include <string>

#include "cpu/resize.h"
#include "pool.h"

namespace maskbox::cpu {

namespace {

enum : uint8_t { kZero = 0, kOne = 1, kMixed = 2 };

struct Span {
  uint32_t x0, x1;  // output columns [x0, x1)
  uint8_t cls;
};

// Read-only state shared by every task.
struct Plan {
  const LogitsToRleOptions* o;
  LinearTaps<float> tx, ty;
  std::vector<uint32_t> col_begin;  // output columns whose i0 == j: [col_begin[j], col_begin[j + 1])
};

// Runs of one block of output rows: pairs (start, length), starts in the flattened plane.
using Runs = std::vector<uint64_t>;

class RunWriter {
 public:
  explicit RunWriter(Runs* runs) : runs_(runs) {}
  void One(uint64_t at) {
    if (!open_) {
      open_ = true;
      start_ = at;
    }
  }
  void Zero(uint64_t at) {
    if (open_) {
      open_ = false;
      runs_->push_back(start_);
      runs_->push_back(at - start_);
    }
  }
  void Bit(bool on, uint64_t at) { on ? One(at) : Zero(at); }

 private:
  Runs* runs_;
  bool open_ = false;
  uint64_t start_ = 0;
};

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(MASKBOX_SANITIZE)
#define MASKBOX_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define MASKBOX_CLONES
#endif

// Class of each cell jx of source rows a, b: corners {jx, jx + 1} x {a, b} (the last cell: jx only).
// Float arithmetic: its own rounding (~6e-8 relative) fits inside the 1e-6 margin's slack. A NaN or
// infinite corner (only reachable by calling the addon directly; min/max can skip a NaN) makes the cell
// mixed, so its pixels are computed exactly, like the reference.
MASKBOX_CLONES
void ClassifyCells(const float* __restrict a, const float* __restrict b, size_t w, float cut, uint8_t* __restrict cls) {
  auto one = [&](float a0, float a1, float b0, float b1) -> uint8_t {
    const float lo = std::min(std::min(a0, a1), std::min(b0, b1));
    const float hi = std::max(std::max(a0, a1), std::max(b0, b1));
    const float margin = std::max(std::fabs(lo), std::fabs(hi)) * 1e-6f + 1e-30f;
    const float sum = (a0 + a1) + (b0 + b1);
    const int finite = (sum - sum) == 0.0f;
    const int on = finite & (lo - margin > cut), off = finite & (hi + margin < cut);
    return static_cast<uint8_t>(kMixed - on - 2 * off);
  };
  for (size_t jx = 0; jx + 1 < w; jx++) cls[jx] = one(a[jx], a[jx + 1], b[jx], b[jx + 1]);
  cls[w - 1] = one(a[w - 1], a[w - 1], b[w - 1], b[w - 1]);
}

// Width-direction interpolation of source row `src` at output columns [x0, x1) into dst[x0, x1).
MASKBOX_CLONES
void HorizontalSpan(const float* __restrict src, const LinearTaps<float>& tx, uint32_t x0, uint32_t x1,
                    float* __restrict dst) {
  const int32_t* i0 = tx.i0.data();
  const int32_t* i1 = tx.i1.data();
  const float* w0 = tx.w0.data();
  const float* w1 = tx.w1.data();
  for (uint32_t x = x0; x < x1; x++) dst[x] = LerpF32(src[i0[x]], w0[x], src[i1[x]], w1[x]);
}

// Height-direction interpolation and threshold of columns [x0, x1): on[x - x0] = value > cut.
MASKBOX_CLONES
void VerticalSpan(const float* __restrict r0, float wy0, const float* __restrict r1, float wy1, float cut,
                  uint32_t x0, uint32_t x1, uint8_t* __restrict on) {
  for (uint32_t x = x0; x < x1; x++) on[x - x0] = LerpF32(r0[x], wy0, r1[x], wy1) > cut;
}

// End of the run of bytes equal to cls[jx] that starts at jx (8 bytes per step).
inline size_t RunEnd(const uint8_t* cls, size_t jx, size_t w) {
  const uint8_t v = cls[jx];
  const uint64_t pattern = 0x0101010101010101ull * v;
  size_t k = jx + 1;
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
  for (; k + 8 <= w; k += 8) {
    uint64_t word;
    std::memcpy(&word, cls + k, 8);
    if (const uint64_t diff = word ^ pattern) return k + (__builtin_ctzll(diff) >> 3);  // first differing byte
  }
#endif
  while (k < w && cls[k] == v) k++;
  return k;
}

// One task's state: the spans of the current source row pair and its two horizontally interpolated
// rows, filled only at the columns of mixed spans.
struct PairState {
  int64_t j0 = -1, j1 = -1;
  std::vector<uint8_t> cls, on;
  std::vector<Span> spans;
  std::vector<float> row0, row1;
};

// Classify source row pair (j0, j0 + 1) of plane `src` into spans of output columns, and interpolate
// rows j0 and j1 along the width where the spans are mixed. j1 (i1 of the rows that read j0) is j0 or
// j0 + 1, so the pair's cells cover it.
void PreparePair(const Plan& p, const float* src, size_t j0, size_t j1, PairState* st) {
  const size_t h = p.o->in_height, w = p.o->in_width;
  ClassifyCells(src + j0 * w, src + std::min(j0 + 1, h - 1) * w, w, p.o->cutoff, st->cls.data());
  st->spans.clear();
  const uint8_t* cls = st->cls.data();
  for (size_t jx = 0; jx < w;) {
    const size_t end = RunEnd(cls, jx, w);
    const uint32_t x0 = p.col_begin[jx], x1 = p.col_begin[end];
    if (x0 < x1) {  // else no output column reads these cells (downscale)
      if (!st->spans.empty() && st->spans.back().cls == cls[jx]) {
        st->spans.back().x1 = x1;
      } else {
        st->spans.push_back(Span{x0, x1, cls[jx]});
      }
    }
    jx = end;
  }
  for (const Span& s : st->spans) {
    if (s.cls != kMixed) continue;
    HorizontalSpan(src + j0 * w, p.tx, s.x0, s.x1, st->row0.data());
    HorizontalSpan(src + j1 * w, p.tx, s.x0, s.x1, st->row1.data());
  }
  st->j0 = int64_t(j0);
  st->j1 = int64_t(j1);
}

// Output rows [y_begin, y_end) of plane c into `runs`; the run open at y_end is closed there.
void EncodeRows(const Plan& p, size_t c, size_t y_begin, size_t y_end, Runs* runs) {
  const LogitsToRleOptions& o = *p.o;
  const size_t h = o.in_height, w = o.in_width, W = o.out_width;
  const float* src = o.data + c * h * w;
  const float cut = o.cutoff;
  PairState st;
  st.cls.resize(w);
  st.on.resize(W);
  st.row0.resize(W);
  st.row1.resize(W);
  RunWriter out(runs);
  for (size_t y = y_begin; y < y_end; y++) {
    const size_t j0 = size_t(p.ty.i0[y]), j1 = size_t(p.ty.i1[y]);
    if (int64_t(j0) != st.j0 || int64_t(j1) != st.j1) PreparePair(p, src, j0, j1, &st);
    const float wy0 = p.ty.w0[y], wy1 = p.ty.w1[y];
    const uint64_t base = uint64_t(y) * W;
    for (const Span& s : st.spans) {
      if (s.cls == kOne) {
        out.One(base + s.x0);
      } else if (s.cls == kZero) {
        out.Zero(base + s.x0);
      } else {
        VerticalSpan(st.row0.data(), wy0, st.row1.data(), wy1, cut, s.x0, s.x1, st.on.data());
        const uint8_t* on = st.on.data();
        const size_t n = s.x1 - s.x0;
        for (size_t k = 0; k < n;) {
          out.Bit(on[k] != 0, base + s.x0 + k);
          k = RunEnd(on, k, n);
        }
      }
    }
  }
  out.Zero(uint64_t(y_end) * W);
}

// "start length ..." with 1-based starts.
void Format(const Runs& runs, std::string* text) {
  text->clear();
  text->resize(runs.size() * 11 + 1);
  char* p = text->data();
  char* end = p + text->size();
  for (size_t k = 0; k < runs.size(); k += 2) {
    if (k) *p++ = ' ';
    p = std::to_chars(p, end, runs[k] + 1).ptr;
    *p++ = ' ';
    p = std::to_chars(p, end, runs[k + 1]).ptr;
  }
  text->resize(size_t(p - text->data()));
}

}  // namespace

std::vector<ClassRle> LogitsToRle(const LogitsToRleOptions& o) {
  const size_t C = o.channels, H = o.out_height, W = o.out_width;
  if (C == 0 || o.in_height == 0 || o.in_width == 0 || H == 0 || W == 0) throw std::invalid_argument("empty shape");
  if (W > UINT32_MAX) throw std::invalid_argument("output width too large");
  Plan p;
  p.o = &o;
  p.tx = MakeTaps<float>(o.in_width, W);
  p.ty = MakeTaps<float>(o.in_height, H);
  p.col_begin.assign(o.in_width + 1, uint32_t(W));
  for (size_t x = W; x-- > 0;) p.col_begin[size_t(p.tx.i0[x])] = uint32_t(x);  // i0 never decreases
  for (size_t j = o.in_width; j-- > 0;) p.col_begin[j] = std::min(p.col_begin[j], p.col_begin[j + 1]);

  // Tasks: (class, block of output rows). Blocks only when there are fewer classes than ~4 per thread.
  const size_t want = (4 * pool::Threads() + C - 1) / C;
  const size_t blocks = std::max<size_t>(1, std::min(want, H / 64));
  const size_t rows_per = (H + blocks - 1) / blocks;
  std::vector<Runs> parts(C * blocks);
  pool::ParallelFor(C * blocks, 1, [&](size_t begin, size_t end) {
    for (size_t t = begin; t < end; t++) {
      const size_t c = t / blocks, b = t % blocks;
      const size_t y0 = b * rows_per, y1 = std::min(H, y0 + rows_per);
      if (y0 < y1) EncodeRows(p, c, y0, y1, &parts[t]);
    }
  });

  // Join each class's blocks (a run ending at a block's last pixel continues into the next block) and
  // format the text, one class per task.
  std::vector<ClassRle> result(C);
  pool::ParallelFor(C, 1, [&](size_t begin, size_t end) {
    Runs joined;
    for (size_t c = begin; c < end; c++) {
      Runs* runs = &parts[c * blocks];
      if (blocks > 1) {
        joined.clear();
        for (size_t b = 0; b < blocks; b++) {
          Runs& part = parts[c * blocks + b];
          size_t k = 0;
          if (!joined.empty() && !part.empty() && joined[joined.size() - 2] + joined.back() == part[0]) {
            joined.back() += part[1];
            k = 2;
          }
          joined.insert(joined.end(), part.begin() + k, part.end());
          Runs().swap(part);
        }
        runs = &joined;
      }
      uint64_t area = 0;
      for (size_t k = 1; k < runs->size(); k += 2) area += (*runs)[k];
      result[c].area = area;
      Format(*runs, &result[c].text);
      Runs().swap(*runs);
    }
  });
  return result;
}

}  // namespace maskbox::cpu

#ifndef MASKBOX_CORE_ONLY
#include "common.h"

namespace maskbox::cpu {
namespace {

// v8::String::kMaxLength on 64-bit platforms: longer text cannot become one JS string.
constexpr size_t kMaxJsString = (size_t{1} << 29) - 24;

class LogitsToRleWorker : public Worker {
 public:
  using Worker::Worker;
  LogitsToRleKernel kernel = LogitsToRle;
  View<const float> data;
  LogitsToRleOptions options;
  std::vector<ClassRle> result;

  void Run() override {
    options.data = data.data;
    result = kernel(options);
    for (size_t c = 0; c < result.size(); c++) {
      if (result[c].text.size() > kMaxJsString) {
        throw std::length_error("the RLE string of channel " + std::to_string(c) + " has " +
                                std::to_string(result[c].text.size()) + " characters, more than a JS string holds");
      }
    }
  }
  Napi::Value Result(Napi::Env env) override {
    Napi::Array rle = Napi::Array::New(env, result.size());
    Napi::Array areas = Napi::Array::New(env, result.size());
    for (size_t c = 0; c < result.size(); c++) {
      napi_value s;
      // Latin-1: the text is ASCII digits and spaces, so no UTF-8 decoding is needed.
      NAPI_THROW_IF_FAILED(env, napi_create_string_latin1(env, result[c].text.data(), result[c].text.size(), &s),
                           Napi::Value());
      rle.Set(uint32_t(c), Napi::Value(env, s));
      areas.Set(uint32_t(c), static_cast<double>(result[c].area));
      std::string().swap(result[c].text);
    }
    Napi::Object o = Napi::Object::New(env);
    o.Set("rle", rle);
    o.Set("areas", areas);
    return o;
  }
};

}  // namespace

// The binding with a given kernel (the cuda build passes its own: native/cuda/addon_cuda.cc).
Napi::Value JsLogitsToRleWith(const Napi::CallbackInfo& info, LogitsToRleKernel kernel, const char* op);

Napi::Value JsLogitsToRle(const Napi::CallbackInfo& info) { return JsLogitsToRleWith(info, LogitsToRle, "logitsToRle"); }

Napi::Value JsLogitsToRleWith(const Napi::CallbackInfo& info, LogitsToRleKernel kernel, const char* op) {
  Args args(info, op);
  auto data = args.Float32("data");
  const int64_t kMax = INT32_MAX;
  auto w = std::make_unique<LogitsToRleWorker>(info.Env(), op);
  w->kernel = kernel;
  LogitsToRleOptions& o = w->options;
  o.channels = static_cast<size_t>(args.Integer("channels", 1, kMax));
  o.in_height = static_cast<size_t>(args.Integer("inHeight", 1, kMax));
  o.in_width = static_cast<size_t>(args.Integer("inWidth", 1, kMax));
  o.out_height = static_cast<size_t>(args.Integer("outHeight", 1, kMax));
  o.out_width = static_cast<size_t>(args.Integer("outWidth", 1, kMax));
  o.cutoff = static_cast<float>(args.Number("cutoff", -INFINITY, INFINITY));
  size_t n_in = 0;
  try {
    n_in = CheckedMul(o.channels, CheckedMul(o.in_height, o.in_width));
  } catch (const std::overflow_error&) {
    args.RangeFail("channels", "a shape whose element count fits in memory", "an overflowing shape");
  }
  if (o.out_height * o.out_width > UINT32_MAX) {  // both < 2^31: no overflow
    args.RangeFail("outHeight", "outHeight * outWidth <= 4294967295", std::to_string(o.out_height * o.out_width));
  }
  args.Length("data", data.ElementLength(), n_in, "a Float32Array of length channels * inHeight * inWidth");
  w->data = w->HoldConst(data);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
