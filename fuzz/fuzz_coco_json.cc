// Fuzzes the COCO results JSON loader (native/cpu/cocoJson.cc ParseCocoResultsJson) on raw bytes:
// malformed JSON, wrong types, duplicate keys, escapes, deep nesting, huge numbers, bad RLE strings.
// Checks: never crashes (ASan + UBSan); whenever it accepts, an independent JSON grammar checker
// (written separately below, from RFC 8259) accepts the bytes too — the loader must never take what
// JSON.parse rejects — and the flat output is consistent: one value per entry in every array, offsets
// monotone and ending at the buffers' ends, counts strings printable ASCII; mask results: every mask's
// counts sum to height * width, re-parse from the kept string to the same counts, and give the
// area of the RLE. The input is also read as raw counts: CocoCountsToBbox (which avoids dividing) must
// equal a plain one-division-per-count rleToBbox, uint32 wrap-around included.
//
//   build/fuzz/fuzz_coco_json -dict=fuzz/coco_json.dict -max_total_time=120 build/fuzz/corpus/coco_json
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/cocoJson.h"
#include "cpu/rle.h"

using namespace maskbox::cpu;

namespace {

// ---- Reference grammar checker (RFC 8259; whitespace = space, tab, LF, CR) ----
struct Ref {
  const uint8_t* s;
  size_t n, p = 0;
  int depth = 0;
  void ws() {
    while (p < n && (s[p] == ' ' || s[p] == '\t' || s[p] == '\n' || s[p] == '\r')) ++p;
  }
  bool lit(const char* w) {
    size_t k = std::strlen(w);
    if (n - p < k || std::memcmp(s + p, w, k)) return false;
    p += k;
    return true;
  }
  bool digits() {
    size_t b = p;
    while (p < n && s[p] >= '0' && s[p] <= '9') ++p;
    return p > b;
  }
  bool number() {
    if (p < n && s[p] == '-') ++p;
    if (p < n && s[p] == '0') {
      ++p;
    } else if (!(p < n && s[p] >= '1' && s[p] <= '9' && digits())) {
      return false;
    }
    if (p < n && s[p] == '.') {
      ++p;
      if (!digits()) return false;
    }
    if (p < n && (s[p] == 'e' || s[p] == 'E')) {
      ++p;
      if (p < n && (s[p] == '+' || s[p] == '-')) ++p;
      if (!digits()) return false;
    }
    return true;
  }
  bool str() {
    if (!(p < n && s[p] == '"')) return false;
    for (++p; p < n; ++p) {
      uint8_t c = s[p];
      if (c == '"') return ++p, true;
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++p >= n) return false;
        if (s[p] == 'u') {
          for (int k = 0; k < 4; k++)
            if (++p >= n || !std::isxdigit(s[p])) return false;
        } else if (!std::strchr("\"\\/bfnrt", s[p]) || s[p] == 0) {
          return false;
        }
      }
    }
    return false;
  }
  bool value() {
    if (++depth > 2000) return false;
    ws();
    bool ok;
    if (p >= n) ok = false;
    else if (s[p] == '{') {
      ++p;
      ws();
      if (p < n && s[p] == '}') ++p, ok = true;
      else
        for (ok = false;;) {
          ws();
          if (!str()) break;
          ws();
          if (!(p < n && s[p] == ':')) break;
          ++p;
          if (!value()) break;
          ws();
          if (p < n && s[p] == ',') { ++p; continue; }
          if (p < n && s[p] == '}') { ++p; ok = true; }
          break;
        }
    } else if (s[p] == '[') {
      ++p;
      ws();
      if (p < n && s[p] == ']') ++p, ok = true;
      else
        for (ok = false;;) {
          if (!value()) break;
          ws();
          if (p < n && s[p] == ',') { ++p; continue; }
          if (p < n && s[p] == ']') { ++p; ok = true; }
          break;
        }
    } else if (s[p] == '"') ok = str();
    else if (s[p] == 't') ok = lit("true");
    else if (s[p] == 'f') ok = lit("false");
    else if (s[p] == 'n') ok = lit("null");
    else ok = number();
    --depth;
    return ok;
  }
  bool document() {
    if (!value()) return false;
    ws();
    return p == n;
  }
};

#define CHECK(x) \
  if (!(x)) __builtin_trap()

/** pycocotools' rleToBbox, written plainly (one division per count) to check CocoCountsToBbox's shortcut. */
void RefBbox(const uint32_t* counts, size_t m, uint64_t h, uint64_t w, double* out) {
  m = m / 2 * 2;
  out[0] = out[1] = out[2] = out[3] = 0;
  if (m == 0 || h == 0) return;
  uint64_t xs = w, ys = h, xe = 0, ye = 0, xp = 0;
  uint32_t cc = 0;
  for (size_t j = 0; j < m; j++) {
    cc += counts[j];
    const uint32_t t = cc - static_cast<uint32_t>(j & 1);
    const uint64_t y = t % h, x = t / h;
    if (j % 2 == 0) xp = x;
    else if (xp < x) ys = 0, ye = h - 1;
    xs = x < xs ? x : xs, xe = x > xe ? x : xe, ys = y < ys ? y : ys, ye = y > ye ? y : ye;
  }
  out[0] = static_cast<double>(xs), out[1] = static_cast<double>(ys);
  out[2] = static_cast<double>(xe - xs + 1), out[3] = static_cast<double>(ye - ys + 1);
}

/** The input read as [h, w, counts...] (small uint16 values, or any uint32 bits): boxes must agree. */
void CheckBbox(const uint8_t* data, size_t size) {
  if (size < 3) return;
  const bool wide = data[0] & 1;
  const uint64_t h = wide ? (uint64_t{data[1]} << 24 | uint64_t{data[2]} << 8 | 1) : data[1], w = data[2];
  std::vector<uint32_t> c;
  for (size_t i = 3; i + (wide ? 4 : 1) <= size; i += wide ? 4 : 1) {
    uint32_t v = data[i];
    if (wide) std::memcpy(&v, data + i, 4);
    c.push_back(v);
  }
  double a[4], b[4];
  CocoCountsToBbox(c.data(), c.size(), h, w, a);
  RefBbox(c.data(), c.size(), h, w, b);
  CHECK(std::memcmp(a, b, sizeof a) == 0);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  CheckBbox(data, size);
  CocoResultsFlat r;
  std::string error;
  const bool ok = ParseCocoResultsJson(data, size, &r, &error);
  if (!ok) {
    CHECK(!error.empty());
    return 0;
  }
  Ref ref{data, size};
  CHECK(ref.document());  // accepted => valid JSON
  const size_t n = r.score.size();
  CHECK(r.image_id.size() == n && r.category_id.size() == n && r.area.size() == n);
  CHECK(r.bbox.size() == 4 * n && r.seg_kind.size() == n && r.seg_size.size() == 2 * n);
  CHECK(r.text_start.size() == n + 1 && r.counts_start.size() == n + 1);
  CHECK(r.text_start[0] == 0 && r.text_start[n] == r.text.size());
  CHECK(r.counts_start[0] == 0 && r.counts_start[n] == r.counts.size());
  for (size_t j = 0; j < n; j++) {
    CHECK(r.text_start[j] <= r.text_start[j + 1] && r.counts_start[j] <= r.counts_start[j + 1]);
    if (r.seg_kind[j] != kSegString) CHECK(r.text_start[j] == r.text_start[j + 1]);
  }
  for (uint8_t c : r.text) CHECK(c >= 0x20 && c < 0x7f);
  if (!r.segm) {
    for (size_t j = 0; j < n; j++) CHECK(r.bbox[4 * j + 2] >= 0 && r.bbox[4 * j + 3] >= 0);
    return 0;
  }
  std::vector<uint32_t> again;
  for (size_t j = 0; j < n; j++) {
    CHECK(r.seg_kind[j] != kSegNone);
    const uint64_t h = static_cast<uint64_t>(r.seg_size[2 * j]), w = static_cast<uint64_t>(r.seg_size[2 * j + 1]);
    CHECK(static_cast<double>(h) == r.seg_size[2 * j] && static_cast<double>(w) == r.seg_size[2 * j + 1]);
    const uint32_t* c = r.counts.data() + r.counts_start[j];
    const size_t m = r.counts_start[j + 1] - r.counts_start[j];
    uint64_t sum = 0;
    double area = 0;
    for (size_t q = 0; q < m; q++) sum += c[q], area += (q & 1) ? c[q] : 0;
    CHECK(sum == h * w);
    CHECK(area == r.area[j]);
    if (r.seg_kind[j] == kSegString) {
      std::string err;
      const char* s = reinterpret_cast<const char*>(r.text.data() + r.text_start[j]);
      CHECK(ParseCocoString<char>(s, r.text_start[j + 1] - r.text_start[j], h, w, &again, &err));
      CHECK(again.size() == m && (m == 0 || std::memcmp(again.data(), c, m * 4) == 0));
    }
    double box[4], ref[4];
    CocoCountsToBbox(c, m, h, w, box);
    RefBbox(c, m, h, w, ref);
    CHECK(std::memcmp(box, ref, sizeof box) == 0);
    if (area > 0) CHECK(box[0] + box[2] <= static_cast<double>(w) && box[1] + box[3] <= static_cast<double>(h));
  }
  return 0;
}
