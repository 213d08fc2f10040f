// Fast loader of COCO results JSON (see cocoJson.h for the contract with src/io/cocoJson.ts).
// JS: addon.parseCocoResults({ bytes: Uint8Array }) -> Promise<{ kind, imageId, categoryId, score, bbox,
//     area, boxFromMask, segKind, segSize, text, textStart, counts, countsStart } | { error: string }>
//     (new typed arrays, copied; `text` is a Buffer). `error` means "use the JS path".
//
// One sequential pass tokenizes the file and keeps only the five keys of a result (and size/counts of
// an RLE segmentation); every other value is checked against the JSON grammar and skipped. Mask
// results' compressed strings are then decoded in parallel with ParseCocoString (cocoRle.cc).
#include "cpu/cocoJson.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstring>
#include <mutex>
#include <system_error>

#include "cpu/rle.h"
#include "pool.h"

namespace maskbox::cpu {

void CocoCountsToBbox(const uint32_t* counts, size_t m, uint64_t h, uint64_t w, double* out) {
  m = m / 2 * 2;
  if (m == 0 || h == 0) {
    out[0] = out[1] = out[2] = out[3] = 0;
    return;
  }
  uint64_t xs = w, ys = h, xe = 0, ye = 0, xp = 0;
  uint32_t cc = 0;  // uint32 wrap-around, as maskApi.c (malformed counts only)
  uint64_t col = 0, col_start = 0;  // the column of the last position, and its first position
  for (size_t j = 0; j < m; j++) {
    cc += counts[j];
    const uint32_t t = cc - static_cast<uint32_t>(j & 1);
    // x = t / h, y = t % h; without dividing when t is in the same column as the last one or the next.
    uint64_t x, y;
    const uint64_t off = t - col_start;  // wraps to huge when t < col_start
    if (t >= col_start && off < h) {
      x = col, y = off;
    } else if (t >= col_start && off - h < h) {
      x = ++col, y = off - h, col_start += h;
    } else {
      x = t / h, y = t % h, col = x, col_start = x * h;
    }
    if (j % 2 == 0) {
      xp = x;
    } else if (xp < x) {
      ys = 0;
      ye = h - 1;
    }
    xs = std::min(xs, x);
    xe = std::max(xe, x);
    ys = std::min(ys, y);
    ye = std::max(ye, y);
  }
  out[0] = static_cast<double>(xs);
  out[1] = static_cast<double>(ys);
  out[2] = static_cast<double>(xe - xs + 1);
  out[3] = static_cast<double>(ye - ys + 1);
}

namespace {

constexpr double kTwo53 = 9007199254740992.0;
constexpr double kMaxU32 = 4294967295.0;

inline bool IsWs(uint8_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }
inline bool IsDigit(uint8_t c) { return c >= '0' && c <= '9'; }
inline int HexValue(uint8_t c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/** Recursive-descent tokenizer over [d, d + n); every read is bounds-checked. */
class Parser {
 public:
  Parser(const uint8_t* d, size_t n, CocoResultsFlat* out) : d_(d), n_(n), out_(out) {}

  bool Run() {
    Ws();
    if (!Eat('[')) return Fail("results must be an array (expected '[')");
    Ws();
    if (!Eat(']')) {
      for (;;) {
        Ws();
        if (!Entry()) return false;
        Ws();
        if (Eat(',')) continue;
        if (Eat(']')) break;
        return Fail("expected ',' or ']' after results[" + std::to_string(Count() - 1) + "]");
      }
    }
    Ws();
    if (p_ != n_) return Fail("unexpected data after the results array");
    return true;
  }

  std::string error;

 private:
  size_t Count() const { return out_->score.size(); }

  bool Fail(const std::string& msg) {
    if (error.empty()) error = "byte " + std::to_string(p_) + ": " + msg;
    return false;
  }
  /** Not malformed, just left to the JS path. */
  bool Decline(const std::string& what) {
    return Fail("results[" + std::to_string(Count()) + "]: " + what + " (left to the JS loader)");
  }

  void Ws() {
    while (p_ < n_ && IsWs(d_[p_])) p_++;
  }
  bool Eat(uint8_t c) {
    if (p_ < n_ && d_[p_] == c) {
      p_++;
      return true;
    }
    return false;
  }
  int PeekByte() const { return p_ < n_ ? d_[p_] : -1; }

  /**
   * A string at '"'. With `out`, appends its unescaped bytes; `*printable` says whether every
   * resulting byte is printable ASCII (0x20..0x7e). Raw bytes >= 0x80 are kept as they are (UTF-8).
   */
  bool String(std::vector<uint8_t>* out, bool* printable) {
    if (!Eat('"')) return Fail("expected a string");
    bool pr = true;
    for (;;) {
      // Fast scan to the next quote, backslash or control byte.
      size_t q = p_;
      while (q < n_) {
        const uint8_t c = d_[q];
        if (c == '"' || c == '\\' || c < 0x20) break;
        if (c >= 0x7f) pr = false;
        q++;
      }
      if (out) out->insert(out->end(), d_ + p_, d_ + q);
      p_ = q;
      if (p_ >= n_) return Fail("unterminated string");
      const uint8_t c = d_[p_];
      if (c == '"') {
        p_++;
        break;
      }
      if (c < 0x20) return Fail("control character in a string");
      // Backslash escape.
      if (p_ + 1 >= n_) return Fail("unterminated escape");
      const uint8_t e = d_[p_ + 1];
      uint32_t unit;
      switch (e) {
        case '"': unit = '"'; break;
        case '\\': unit = '\\'; break;
        case '/': unit = '/'; break;
        case 'b': unit = '\b'; break;
        case 'f': unit = '\f'; break;
        case 'n': unit = '\n'; break;
        case 'r': unit = '\r'; break;
        case 't': unit = '\t'; break;
        case 'u': {
          if (p_ + 6 > n_) return Fail("truncated \\u escape");
          unit = 0;
          for (int k = 0; k < 4; k++) {
            const int h = HexValue(d_[p_ + 2 + k]);
            if (h < 0) return Fail("invalid \\u escape");
            unit = unit * 16 + static_cast<uint32_t>(h);
          }
          p_ += 4;
          break;
        }
        default:
          return Fail("invalid escape");
      }
      p_ += 2;
      if (unit < 0x20 || unit >= 0x7f) pr = false;
      // Non-ASCII units never match a key and make a counts string non-printable (declined): any
      // placeholder byte will do.
      if (out) out->push_back(unit < 0x80 ? static_cast<uint8_t>(unit) : 0xff);
    }
    if (printable) *printable = pr;
    return true;
  }

  /** A number token (JSON grammar). With `v`, its float64 value (declines one out of range). */
  bool Number(double* v, bool* negative) {
    const size_t start = p_;
    const bool neg = Eat('-');
    if (p_ >= n_) return Fail("expected a number");
    if (d_[p_] == '0') {
      p_++;
    } else if (d_[p_] >= '1' && d_[p_] <= '9') {
      while (p_ < n_ && IsDigit(d_[p_])) p_++;
    } else {
      return Fail("expected a number");
    }
    if (Eat('.')) {
      if (p_ >= n_ || !IsDigit(d_[p_])) return Fail("expected a digit after '.'");
      while (p_ < n_ && IsDigit(d_[p_])) p_++;
    }
    if (p_ < n_ && (d_[p_] == 'e' || d_[p_] == 'E')) {
      p_++;
      if (p_ < n_ && (d_[p_] == '+' || d_[p_] == '-')) p_++;
      if (p_ >= n_ || !IsDigit(d_[p_])) return Fail("expected a digit in the exponent");
      while (p_ < n_ && IsDigit(d_[p_])) p_++;
    }
    if (negative) *negative = neg;
    if (v) {
      const char* b = reinterpret_cast<const char*>(d_ + start);
      const char* e = reinterpret_cast<const char*>(d_ + p_);
      const auto r = std::from_chars(b, e, *v);
      if (r.ec != std::errc() || r.ptr != e || !std::isfinite(*v)) {
        p_ = start;
        return Decline("a number outside the float64 range");
      }
    }
    return true;
  }

  bool Literal(const char* word) {
    const size_t len = std::strlen(word);
    if (n_ - p_ < len || std::memcmp(d_ + p_, word, len) != 0) return Fail("invalid literal");
    p_ += len;
    return true;
  }

  /** Any JSON value, checked and skipped. */
  bool Skip(int depth) {
    if (depth > kCocoJsonMaxDepth) return Fail("nesting deeper than " + std::to_string(kCocoJsonMaxDepth));
    Ws();
    const int c = PeekByte();
    switch (c) {
      case '"':
        return String(nullptr, nullptr);
      case '{': {
        p_++;
        Ws();
        if (Eat('}')) return true;
        for (;;) {
          Ws();
          if (!String(nullptr, nullptr)) return false;
          Ws();
          if (!Eat(':')) return Fail("expected ':'");
          if (!Skip(depth + 1)) return false;
          Ws();
          if (Eat(',')) continue;
          if (Eat('}')) return true;
          return Fail("expected ',' or '}'");
        }
      }
      case '[': {
        p_++;
        Ws();
        if (Eat(']')) return true;
        for (;;) {
          if (!Skip(depth + 1)) return false;
          Ws();
          if (Eat(',')) continue;
          if (Eat(']')) return true;
          return Fail("expected ',' or ']'");
        }
      }
      case 't': return Literal("true");
      case 'f': return Literal("false");
      case 'n': return Literal("null");
      default:
        if (c == '-' || (c >= '0' && c <= '9')) return Number(nullptr, nullptr);
        return Fail(c < 0 ? "unexpected end of input" : "unexpected character");
    }
  }

  bool IsNumberStart() const {
    const int c = PeekByte();
    return c == '-' || (c >= '0' && c <= '9');
  }

  /** An array of numbers at '['; calls `each(value, negative)` (which may decline). */
  template <typename F>
  bool NumberArray(F each) {
    if (!Eat('[')) return false;
    Ws();
    if (Eat(']')) return true;
    for (;;) {
      Ws();
      if (!IsNumberStart()) return Decline("an array element that is not a number");
      double v;
      bool neg;
      if (!Number(&v, &neg) || !each(v, neg)) return false;
      Ws();
      if (Eat(',')) continue;
      if (Eat(']')) return true;
      return Fail("expected ',' or ']'");
    }
  }

  bool Key() {
    key_.clear();
    return String(&key_, nullptr);
  }
  bool KeyIs(const char* k) const {
    const size_t len = std::strlen(k);
    return key_.size() == len && std::memcmp(key_.data(), k, len) == 0;
  }

  /** segmentation: only an RLE object {size: [h, w], counts: string | number[]} (polygons are declined). */
  bool Segmentation(int depth, size_t text_mark, size_t counts_mark, uint8_t* kind, double* size) {
    Ws();
    if (!Eat('{')) return Decline("'segmentation' that is not an RLE object");
    bool has_size = false;
    *kind = kSegNone;
    Ws();
    if (!Eat('}')) {
      for (;;) {
        Ws();
        if (!Key()) return false;
        Ws();
        if (!Eat(':')) return Fail("expected ':'");
        Ws();
        if (KeyIs("size")) {
          if (PeekByte() != '[') return Decline("segmentation.size that is not an array");
          size_t k = 0;
          bool ok = NumberArray([&](double v, bool neg) {
            if (k >= 2) return Decline("segmentation.size with more than 2 values");
            if (neg || std::floor(v) != v) return Decline("segmentation.size that is not [height, width] (integers >= 0)");
            size[k++] = v;
            return true;
          });
          if (!ok) return false;
          if (k != 2) return Decline("segmentation.size without 2 values");
          has_size = true;
        } else if (KeyIs("counts")) {
          out_->text.resize(text_mark);  // a repeated key: the last one wins (JSON.parse)
          out_->counts.resize(counts_mark);
          if (PeekByte() == '"') {
            bool printable = false;
            if (!String(&out_->text, &printable)) return false;
            if (!printable) return Decline("a counts string with characters other than printable ASCII");
            *kind = kSegString;
          } else if (PeekByte() == '[') {
            bool ok = NumberArray([&](double v, bool neg) {
              if (neg || std::floor(v) != v || v > kMaxU32) return Decline("a counts value that is not an integer in 0..2^32-1");
              out_->counts.push_back(static_cast<uint32_t>(v));
              return true;
            });
            if (!ok) return false;
            *kind = kSegArray;
          } else {
            return Decline("segmentation.counts that is neither a string nor an array");
          }
        } else if (!Skip(depth + 1)) {
          return false;
        }
        Ws();
        if (Eat(',')) continue;
        if (Eat('}')) break;
        return Fail("expected ',' or '}'");
      }
    }
    if (!has_size || *kind == kSegNone) return Decline("an RLE segmentation without size or counts");
    return true;
  }

  /** One result object. */
  bool Entry() {
    if (PeekByte() != '{') return Decline("an entry that is not an object");
    p_++;
    double img = 0, cat = 0, score = 0, box[4] = {0, 0, 0, 0}, size[2] = {0, 0};
    bool has_img = false, has_cat = false, has_score = false;
    int box_kind = 0;  // 0 absent, 1 four numbers, 2 empty array
    uint8_t seg_kind = kSegNone;
    const size_t text_mark = out_->text.size(), counts_mark = out_->counts.size();
    Ws();
    if (!Eat('}')) {
      for (;;) {
        Ws();
        if (!Key()) return false;
        Ws();
        if (!Eat(':')) return Fail("expected ':'");
        Ws();
        double* num = KeyIs("image_id") ? &img : KeyIs("category_id") ? &cat : KeyIs("score") ? &score : nullptr;
        if (num) {
          if (!IsNumberStart()) return Decline("an image_id, category_id or score that is not a number");
          if (!Number(num, nullptr)) return false;
          (num == &img ? has_img : num == &cat ? has_cat : has_score) = true;
        } else if (KeyIs("bbox")) {
          if (PeekByte() != '[') return Decline("a bbox that is not an array");
          size_t k = 0;
          bool ok = NumberArray([&](double v, bool) {
            if (k >= 4) return Decline("a bbox with more than 4 values");
            box[k++] = v;
            return true;
          });
          if (!ok) return false;
          if (k != 0 && k != 4) return Decline("a bbox with neither 0 nor 4 values");
          if (k == 4 && (box[2] < 0 || box[3] < 0)) return Decline("a bbox with a negative size");
          box_kind = k == 4 ? 1 : 2;
        } else if (KeyIs("segmentation")) {
          out_->text.resize(text_mark);
          out_->counts.resize(counts_mark);
          if (!Segmentation(1, text_mark, counts_mark, &seg_kind, size)) return false;
        } else if (!Skip(1)) {
          return false;
        }
        Ws();
        if (Eat(',')) continue;
        if (Eat('}')) break;
        return Fail("expected ',' or '}'");
      }
    }
    if (!has_img || !has_cat || !has_score) return Decline("a result without image_id, category_id or score");
    if (seg_kind == kSegNone) {  // a segmentation key that ended as none cannot happen; keep buffers clean
      out_->text.resize(text_mark);
      out_->counts.resize(counts_mark);
    }
    CocoResultsFlat& o = *out_;
    o.image_id.push_back(img);
    o.category_id.push_back(cat);
    o.score.push_back(score);
    o.bbox.insert(o.bbox.end(), box, box + 4);
    box_kind_.push_back(static_cast<uint8_t>(box_kind));
    o.seg_kind.push_back(seg_kind);
    o.seg_size.insert(o.seg_size.end(), size, size + 2);
    o.text_start.push_back(o.text.size());
    o.counts_start.push_back(o.counts.size());
    return true;
  }

  const uint8_t* d_;
  size_t n_, p_ = 0;
  CocoResultsFlat* out_;
  std::vector<uint8_t> key_;

 public:
  /** Per entry: 0 no bbox, 1 a bbox of 4, 2 an empty bbox (read by Finish). */
  std::vector<uint8_t> box_kind_;
};

/** Number of values in a compressed counts string (chars without the continuation bit). */
size_t CountValues(const uint8_t* s, size_t n) {
  size_t k = 0;
  for (size_t i = 0; i < n; i++) k += ((s[i] - 48u) & 0x20u) == 0;
  return k;
}

/** Kind, areas, mask decoding and derived boxes, as parseCocoResults does after reading the JSON. */
bool Finish(CocoResultsFlat* o, const std::vector<uint8_t>& box_kind, std::string* error) {
  const size_t N = o->score.size();
  auto fail = [&](size_t j, const std::string& msg) {
    *error = "results[" + std::to_string(j) + "]: " + msg + " (left to the JS loader)";
    return false;
  };
  if (N == 0) return true;
  if (box_kind[0] == 1) {
    o->segm = false;
  } else if (o->seg_kind[0] != kSegNone) {
    o->segm = true;
  } else {
    return fail(0, "neither a bbox nor a segmentation");
  }
  o->area.resize(N);
  if (!o->segm) {
    for (size_t j = 0; j < N; j++) {
      if (box_kind[j] != 1) return fail(j, "a box result without a bbox of 4 values");
      o->area[j] = o->bbox[4 * j + 2] * o->bbox[4 * j + 3];
    }
    return true;
  }
  // Mask results: every entry's counts, decoded (strings) or checked (arrays), in one new buffer.
  std::vector<uint64_t> start(N + 1, 0);
  for (size_t j = 0; j < N; j++) {
    const uint8_t k = o->seg_kind[j];
    if (k == kSegNone) return fail(j, "a mask result without a segmentation");
    const double h = o->seg_size[2 * j], w = o->seg_size[2 * j + 1];
    if (h > kMaxU32 || w > kMaxU32 || h * w > kTwo53) return fail(j, "a mask size past 2^53 pixels");
    const size_t n = k == kSegString
                         ? CountValues(o->text.data() + o->text_start[j], o->text_start[j + 1] - o->text_start[j])
                         : o->counts_start[j + 1] - o->counts_start[j];
    start[j + 1] = start[j] + n;
  }
  if (start[N] > UINT32_MAX) return fail(0, "more than 2^32 - 1 counts in all");
  o->box_from_mask.resize(N);
  for (size_t j = 0; j < N; j++) o->box_from_mask[j] = box_kind[j] != 1;
  std::vector<uint32_t> counts(start[N]);
  std::mutex mu;
  size_t first_bad = N;
  std::string bad_msg;
  pool::ParallelFor(N, 256, [&](size_t begin, size_t end) {
    std::vector<uint32_t> tmp;
    std::string err;
    for (size_t j = begin; j < end; j++) {
      const uint64_t h = static_cast<uint64_t>(o->seg_size[2 * j]), w = static_cast<uint64_t>(o->seg_size[2 * j + 1]);
      const size_t n = start[j + 1] - start[j];
      uint32_t* dst = counts.data() + start[j];
      bool ok = true;
      if (o->seg_kind[j] == kSegString) {
        const char* s = reinterpret_cast<const char*>(o->text.data() + o->text_start[j]);
        ok = ParseCocoString<char>(s, o->text_start[j + 1] - o->text_start[j], h, w, &tmp, &err);
        if (ok && tmp.size() != n) ok = false, err = "unexpected count of values";
        if (ok && n) std::memcpy(dst, tmp.data(), n * sizeof(uint32_t));
      } else {
        const uint32_t* src = o->counts.data() + o->counts_start[j];
        uint64_t sum = 0;
        for (size_t q = 0; q < n; q++) sum += src[q];
        if (sum != h * w) ok = false, err = "counts do not sum to height * width";
        if (ok && n) std::memcpy(dst, src, n * sizeof(uint32_t));
      }
      if (!ok) {
        std::lock_guard<std::mutex> lock(mu);
        if (j < first_bad) first_bad = j, bad_msg = err;
        return;
      }
      double area = 0;
      for (size_t q = 1; q < n; q += 2) area += dst[q];
      o->area[j] = area;
      if (box_kind[j] != 1) CocoCountsToBbox(dst, n, h, w, o->bbox.data() + 4 * j);
    }
  });
  if (first_bad < N) return fail(first_bad, "segmentation.counts: " + bad_msg);
  o->counts.swap(counts);
  o->counts_start.swap(start);
  return true;
}

}  // namespace

bool ParseCocoResultsJson(const uint8_t* data, size_t len, CocoResultsFlat* out, std::string* error) {
  *out = CocoResultsFlat();
  out->text_start.push_back(0);
  out->counts_start.push_back(0);
  Parser parser(data, len, out);
  if (!parser.Run()) {
    *error = parser.error;
    return false;
  }
  return Finish(out, parser.box_kind_, error);
}

}  // namespace maskbox::cpu

// ---- N-API binding (left out of the fuzz build, which defines MASKBOX_CORE_ONLY) ----
#ifndef MASKBOX_CORE_ONLY
#include "common.h"

namespace maskbox::cpu {

namespace {

template <typename T>
Napi::TypedArrayOf<T> Copy(Napi::Env env, const std::vector<T>& v) {
  auto a = Napi::TypedArrayOf<T>::New(env, v.size());
  if (!v.empty()) std::memcpy(a.Data(), v.data(), v.size() * sizeof(T));
  return a;
}

Napi::TypedArrayOf<double> Offsets(Napi::Env env, const std::vector<uint64_t>& v) {
  auto a = Napi::TypedArrayOf<double>::New(env, v.size());
  for (size_t i = 0; i < v.size(); i++) a[i] = static_cast<double>(v[i]);
  return a;
}

class ParseCocoResultsWorker : public Worker {
 public:
  using Worker::Worker;
  View<const uint8_t> bytes;

  void Run() override { ok_ = ParseCocoResultsJson(bytes.data, bytes.length, &flat_, &error_); }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    if (!ok_) {
      o.Set("error", error_);
      return o;
    }
    o.Set("kind", flat_.segm ? "segm" : "bbox");
    o.Set("imageId", Copy(env, flat_.image_id));
    o.Set("categoryId", Copy(env, flat_.category_id));
    o.Set("score", Copy(env, flat_.score));
    o.Set("bbox", Copy(env, flat_.bbox));
    o.Set("area", Copy(env, flat_.area));
    o.Set("boxFromMask", Copy(env, flat_.box_from_mask));
    o.Set("segKind", Copy(env, flat_.seg_kind));
    o.Set("segSize", Copy(env, flat_.seg_size));
    o.Set("text", Napi::Buffer<uint8_t>::Copy(env, flat_.text.data(), flat_.text.size()));
    o.Set("textStart", Offsets(env, flat_.text_start));
    o.Set("counts", Copy(env, flat_.counts));
    o.Set("countsStart", Offsets(env, flat_.counts_start));
    return o;
  }

 private:
  bool ok_ = false;
  std::string error_;
  CocoResultsFlat flat_;
};

}  // namespace

Napi::Value JsParseCocoResults(const Napi::CallbackInfo& info) {
  Args args(info, "parseCocoResults");
  auto bytes = args.Uint8("bytes");
  auto w = std::make_unique<ParseCocoResultsWorker>(info.Env(), "parseCocoResults");
  w->bytes = w->HoldConst(bytes);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
