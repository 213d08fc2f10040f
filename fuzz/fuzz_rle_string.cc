// Fuzzes the competition RLE string parser (native/cpu/rleDecode.cc ParseRle), as bytes and as UTF-16
// code units, on raw input and on input mapped to digits and whitespace (to get past the first token).
// Checks: never crashes; accepts exactly what a straightforward reference parser accepts, with the same
// runs, and fails at the same token; accepted runs decode (row and column order) to the mask the runs
// describe, and that mask re-encodes (ScanRuns, TransposeRuns, FormatRle) to the same canonical runs.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "cpu/rle.h"

using namespace maskbox::cpu;

namespace {

struct RefResult {
  bool ok = true;
  uint64_t bad_token = 0;  // token number of the failure (0: odd token count)
  std::vector<uint32_t> runs;
};

// Whitespace-split tokens, each all digits, as parseRle's contract says, written independently.
template <typename Ch>
RefResult Reference(const Ch* s, size_t len, uint64_t pixels) {
  RefResult r;
  std::vector<std::pair<size_t, size_t>> toks;
  size_t i = 0;
  const auto space = [](uint32_t c) { return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'; };
  while (i < len) {
    uint32_t c = static_cast<std::make_unsigned_t<Ch>>(s[i]);
    if (space(c)) { i++; continue; }
    size_t j = i;
    while (j < len && !space(static_cast<std::make_unsigned_t<Ch>>(s[j]))) j++;
    toks.emplace_back(i, j);
    i = j;
  }
  uint64_t prev_end = 0, start = 0;
  for (size_t t = 0; t < toks.size(); t++) {
    bool digits = true;
    unsigned __int128 v = 0;
    for (size_t k = toks[t].first; k < toks[t].second; k++) {
      uint32_t c = static_cast<std::make_unsigned_t<Ch>>(s[k]);
      if (c < '0' || c > '9') digits = false;
      else if (v < (unsigned __int128)1 << 100) v = v * 10 + (c - '0');
    }
    const auto fail = [&] { r.ok = false; r.bad_token = t + 1; r.runs.clear(); return r; };
    if (!digits) return fail();
    if (t % 2 == 0) {
      if (v < 1 || v > pixels || v - 1 < prev_end) return fail();
      start = static_cast<uint64_t>(v - 1);
    } else {
      if (start + v > pixels) return fail();
      prev_end = start + static_cast<uint64_t>(v);
      if (v > 0) { r.runs.push_back(static_cast<uint32_t>(start)); r.runs.push_back(static_cast<uint32_t>(v)); }
    }
  }
  if (toks.size() % 2) { r.ok = false; r.bad_token = 0; r.runs.clear(); }
  return r;
}

uint64_t TokenOf(const std::string& err) {
  if (err.rfind("RLE token ", 0) == 0) return std::stoull(err.substr(10));
  if (err.rfind("odd number of RLE tokens", 0) == 0) return 0;
  __builtin_trap();
}

/** Merges touching runs (what an encoder produces for the same pixels). */
std::vector<uint32_t> Canonical(const std::vector<uint32_t>& r) {
  std::vector<uint32_t> out;
  for (size_t k = 0; k < r.size(); k += 2) {
    if (!out.empty() && uint64_t{out[out.size() - 2]} + out.back() == r[k]) out.back() += r[k + 1];
    else { out.push_back(r[k]); out.push_back(r[k + 1]); }
  }
  return out;
}

template <typename Ch>
void Check(const Ch* s, size_t len, uint32_t h, uint32_t w, uint64_t pixels) {
  std::vector<uint32_t> runs;
  std::string err;
  const bool ok = ParseRle(s, len, pixels, &runs, &err);
  const RefResult ref = Reference(s, len, pixels);
  if (ok != ref.ok) __builtin_trap();
  if (!ok) {
    if (err.empty() || TokenOf(err) != ref.bad_token) __builtin_trap();
    return;
  }
  if (runs != ref.runs || !CheckRuns(runs.data(), runs.size(), pixels).empty()) __builtin_trap();
  if (pixels != uint64_t{h} * w || pixels > (1u << 16)) return;
  // Decode in both orders against the flat mask the runs describe.
  std::vector<uint8_t> flat(pixels, 0), mask(pixels, 7);
  for (size_t k = 0; k < runs.size(); k += 2) std::fill_n(flat.begin() + runs[k], runs[k + 1], uint8_t{1});
  DecodeScratch ds;
  DecodeChannel(runs.data(), runs.size(), h, w, RleOrder::kRow, mask.data(), &ds);
  if (mask != flat) __builtin_trap();
  const std::vector<uint32_t> canon = Canonical(runs);
  std::vector<uint32_t> again;
  ScanRuns(mask.data(), pixels, 0, &again);
  if (again != canon) __builtin_trap();
  std::fill(mask.begin(), mask.end(), 9);
  DecodeChannel(runs.data(), runs.size(), h, w, RleOrder::kCol, mask.data(), &ds);
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++)
      if (mask[size_t{y} * w + x] != flat[size_t{x} * h + y]) __builtin_trap();
  // Column order from the row-order runs of the decoded mask, on runs only.
  std::vector<uint32_t> row, col;
  ScanRuns(mask.data(), pixels, 0, &row);
  TransposeScratch ts;
  TransposeRuns(row.data(), row.size(), h, w, &col, &ts);
  if (col != canon) __builtin_trap();
  std::string text;
  FormatRle(canon.data(), canon.size(), &text);
  std::vector<uint32_t> back;
  if (!ParseRle(text.data(), text.size(), pixels, &back, &err) || back != canon) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t mode = data[0];
  const uint32_t h = data[1] % 48, w = data[2] % 48;
  data += 3;
  size -= 3;
  // Mostly the real shape; sometimes the largest allowed pixel count (parse only).
  const uint64_t pixels = (mode & 4) ? 0xffffffffULL : uint64_t{h} * w;
  std::string text(reinterpret_cast<const char*>(data), size);
  if (mode & 2) {  // digits and whitespace, mostly small numbers
    for (char& c : text) {
      const uint8_t b = static_cast<uint8_t>(c);
      c = b < 150 ? static_cast<char>('0' + b % 10) : b < 245 ? ' ' : "\t\n\r\v\f+-x.e"[b % 11];
    }
  }
  if (mode & 1) {
    std::u16string u;
    if (mode & 2) {  // the mapped text, with a few non-ASCII units (NBSP, a surrogate half, a pair)
      u.resize(text.size());
      for (size_t i = 0; i < u.size(); i++) {
        u[i] = static_cast<uint8_t>(text[i]);
        if (data[i] == 0xff) u[i] = 0x00a0;
        if (data[i] == 0xfe) u[i] = 0xd83d;
        if (data[i] == 0xfd) u[i] = 0xde00;
      }
    } else {  // raw little-endian code units
      u.resize(text.size() / 2);
      for (size_t i = 0; i < u.size(); i++)
        u[i] = static_cast<char16_t>(static_cast<uint8_t>(text[2 * i]) | (static_cast<uint8_t>(text[2 * i + 1]) << 8));
    }
    Check(u.data(), u.size(), h, w, pixels);
  } else {
    Check(text.data(), text.size(), h, w, pixels);
  }
  return 0;
}
