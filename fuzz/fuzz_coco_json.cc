// Fuzzes the COCO results JSON loader (native/cpu/cocoJson.cc ParseCocoResultsJson) on raw bytes:
// malformed JSON, wrong types, duplicate keys, escapes, deep nesting, huge numbers, bad RLE strings.
// Checks: never crashes (ASan + UBSan); whenever it accepts, an independent JSON grammar checker
// (written separately below, from RFC 8259) accepts the bytes too — the loader must never take what
// JSON.parse rejects — and the flat output is consistent: one value per entry in every array, offsets
// monotone and ending at the buffers' ends, counts strings printable ASCII; mask results: every mask's
// counts sum to height * width, re-parse from the kept string to the same counts, and give the
// area and (when derived) the box of the RLE.
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
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
    double box[4];
    CocoCountsToBbox(c, m, h, w, box);
    if (area > 0) CHECK(box[0] + box[2] <= static_cast<double>(w) && box[1] + box[3] <= static_cast<double>(h));
  }
  return 0;
}
