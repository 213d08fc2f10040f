// Fuzzes pycocotools' compressed counts decoder (native/cpu/cocoRle.cc ParseCocoString), as bytes and
// as UTF-16 code units: truncated values, over-long values, overflow, negative counts, counts that do
// not sum to height * width. Checks: never crashes; accepts exactly what a reference decoder (128-bit
// arithmetic, written from pycocotools' rleFrString) accepts, with the same counts; accepted counts
// re-encode (FormatCocoString) to a string that parses back to them, convert to runs and back
// (CountsToRuns / RunsToCounts) canonically, and decode to the mask they describe.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <type_traits>
#include <vector>

#include "cpu/rle.h"

using namespace maskbox::cpu;

namespace {

template <typename Ch>
bool Reference(const Ch* s, size_t len, std::vector<uint32_t>* counts, unsigned __int128* sum) {
  counts->clear();
  *sum = 0;
  size_t p = 0;
  while (p < len) {
    __int128 x = 0;
    int k = 0;
    bool more = true;
    while (more) {
      if (p >= len) return false;                               // truncated
      const uint32_t u = static_cast<std::make_unsigned_t<Ch>>(s[p]);
      if (u < 48 || u >= 48 + 64) return false;                 // not '0'..'o'
      if (k == 7) return false;                                 // over 35 bits
      const uint32_t c = u - 48;
      x |= static_cast<__int128>(c & 0x1f) << (5 * k);
      more = c & 0x20;
      p++;
      k++;
      if (!more && (c & 0x10)) x |= -(static_cast<__int128>(1) << (5 * k));  // sign-extend
    }
    if (counts->size() > 2) x += (*counts)[counts->size() - 2];
    if (x < 0 || x > 0xffffffff) return false;
    counts->push_back(static_cast<uint32_t>(x));
    *sum += static_cast<uint32_t>(x);
  }
  return true;
}

template <typename Ch>
void Check(const Ch* s, size_t len, uint32_t h, uint32_t w, bool fit) {
  std::vector<uint32_t> ref;
  unsigned __int128 sum = 0;
  const bool ref_ok = Reference(s, len, &ref, &sum);
  // Half the time take the shape from the counts, so that the success path is exercised.
  if (fit && ref_ok && sum <= 0xffffffffu) {
    h = static_cast<uint32_t>(sum);
    w = 1;
    if (h % 3 == 0 && h > 0) h /= 3, w = 3;
  }
  std::vector<uint32_t> counts;
  std::string err;
  const bool ok = ParseCocoString(s, len, h, w, &counts, &err);
  const bool expect = ref_ok && sum == uint64_t{h} * w;
  if (ok != expect) __builtin_trap();
  if (!ok) {
    if (err.empty()) __builtin_trap();
    if (ref_ok && err.rfind("RLE counts sum to ", 0) != 0) __builtin_trap();  // the right reason
    return;
  }
  if (counts != ref) __builtin_trap();
  std::string text;
  FormatCocoString(counts.data(), counts.size(), &text);
  std::vector<uint32_t> back;
  if (!ParseCocoString(text.data(), text.size(), h, w, &back, &err) || back != counts) __builtin_trap();
  const uint64_t pixels = uint64_t{h} * w;
  std::vector<uint32_t> runs, canon;
  CountsToRuns(counts.data(), counts.size(), &runs);
  if (!CheckRuns(runs.data(), runs.size(), pixels).empty()) __builtin_trap();
  RunsToCounts(runs.data(), runs.size(), pixels, &canon);
  // Canonical counts, independently: (value, length) pieces without empty ones, neighbours of the same
  // value merged, a leading run of 0s (possibly empty); [0] for no pixels.
  std::vector<std::pair<int, uint64_t>> pieces;
  for (size_t i = 0; i < counts.size(); i++) {
    if (counts[i] == 0) continue;
    if (!pieces.empty() && pieces.back().first == int(i & 1)) pieces.back().second += counts[i];
    else pieces.emplace_back(int(i & 1), counts[i]);
  }
  std::vector<uint32_t> fold;
  if (pieces.empty() || pieces[0].first == 1) fold.push_back(0);
  for (auto& pc : pieces) fold.push_back(static_cast<uint32_t>(pc.second));
  if (canon != fold) __builtin_trap();
  if (pixels > (1u << 16)) return;
  std::vector<uint8_t> mask(pixels, 5), flat(pixels, 0);
  uint64_t pos = 0;
  for (size_t i = 0; i < counts.size(); pos += counts[i], i++)
    if (i & 1) std::fill_n(flat.begin() + pos, counts[i], uint8_t{1});
  DecodeScratch ds;
  DecodeChannel(runs.data(), runs.size(), h, w, RleOrder::kCol, mask.data(), &ds);
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++)
      if (mask[size_t{y} * w + x] != flat[size_t{x} * h + y]) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 3) return 0;
  const uint8_t mode = data[0];
  const uint32_t h = data[1], w = data[2];
  data += 3;
  size -= 3;
  std::string text(reinterpret_cast<const char*>(data), size);
  if (mode & 32) {  // structured: values of 1..8 groups (8 is one too many), continuation bits right
    text.clear();
    for (size_t i = 0; i < size;) {
      const int groups = 1 + data[i++] % 8;
      for (int g = 0; g < groups; g++) {
        const uint8_t bits = i < size ? data[i++] & 0x1f : 0;
        const bool last = g + 1 == groups;
        text.push_back(static_cast<char>(48 + (last ? bits : (bits | 0x20))));
      }
    }
  } else if (mode & 2) {  // mostly valid chars
    for (char& c : text) c = static_cast<char>(48 + static_cast<uint8_t>(c) % (mode & 4 ? 66 : 64));
  }
  if (mode & 1) {
    std::u16string u(text.size(), u'\0');
    for (size_t i = 0; i < u.size(); i++) u[i] = static_cast<char16_t>(static_cast<uint8_t>(text[i]) | ((mode & 8) && i % 7 == 3 ? 0xd800 : 0));
    Check(u.data(), u.size(), h, w, mode & 16);
  } else {
    Check(text.data(), text.size(), h, w, mode & 16);
  }
  return 0;
}
