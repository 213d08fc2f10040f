// COCO RLE counts and pycocotools' compressed counts strings (no N-API; used by rleEncode / rleDecode
// and fuzzed by fuzz/fuzz_coco_string.cc). The spec is src/backends/js/cocoRle.ts (cocoRleToString,
// cocoRleFromString) and runsToCounts / countsToRuns in src/backends/js/rle.ts.
//
// Compressed form: each count (from index 3 on, the difference from the count two places before) is
// written as 5-bit groups, least significant first, each char `48 + bits` with 0x20 set while more
// groups follow and 0x10 of the last group the sign. Parsing is defensive: every char, every value's
// length (at most 7 groups, 35 bits), every decoded count (0..2^32-1) and the total are checked.
#include <string>
#include <type_traits>

#include "cpu/rle.h"

namespace maskbox::cpu {

void RunsToCounts(const uint32_t* r, size_t n, uint64_t pixels, std::vector<uint32_t>* counts) {
  counts->clear();
  uint64_t pos = 0;
  for (size_t i = 0; i + 1 < n; i += 2) {
    const uint64_t s = r[i], l = r[i + 1];
    if (l == 0) continue;
    if (s == pos && !counts->empty()) {
      counts->back() += static_cast<uint32_t>(l);  // touching runs merge (canonical counts)
    } else {
      counts->push_back(static_cast<uint32_t>(s - pos));
      counts->push_back(static_cast<uint32_t>(l));
    }
    pos = s + l;
  }
  if (pos < pixels || counts->empty()) counts->push_back(static_cast<uint32_t>(pixels - pos));
}

void CountsToRuns(const uint32_t* counts, size_t n, std::vector<uint32_t>* runs) {
  runs->clear();
  uint64_t pos = 0;
  for (size_t i = 0; i < n; i++) {
    const uint32_t c = counts[i];
    if ((i & 1) && c > 0) {
      runs->push_back(static_cast<uint32_t>(pos));
      runs->push_back(c);
    }
    pos += c;
  }
}

void FormatCocoString(const uint32_t* counts, size_t n, std::string* out) {
  for (size_t i = 0; i < n; i++) {
    int64_t x = counts[i];
    if (i > 2) x -= counts[i - 2];
    bool more = true;
    while (more) {
      int64_t c = x & 0x1f;  // two's complement low bits (x may be negative)
      x = (x - c) / 32;      // exact: floor division
      more = (c & 0x10) ? x != -1 : x != 0;
      if (more) c |= 0x20;
      out->push_back(static_cast<char>(c + 48));
    }
  }
}

namespace {

/** One code unit of the input as text for a message (UTF-8; a UTF-16 surrogate in its 3-byte WTF-8 form). */
template <typename Ch>
std::string UnitText(Ch c) {
  const uint32_t u = static_cast<std::make_unsigned_t<Ch>>(c);
  std::string s;
  if (u < 0x80) {
    s.push_back(static_cast<char>(u));
  } else if (sizeof(Ch) == 1) {
    s.push_back(static_cast<char>(u));  // raw byte (only the fuzz build parses bytes)
  } else if (u < 0x800) {
    s += {static_cast<char>(0xc0 | (u >> 6)), static_cast<char>(0x80 | (u & 0x3f))};
  } else {
    s += {static_cast<char>(0xe0 | (u >> 12)), static_cast<char>(0x80 | ((u >> 6) & 0x3f)),
          static_cast<char>(0x80 | (u & 0x3f))};
  }
  return s;
}

}  // namespace

template <typename Ch>
bool ParseCocoString(const Ch* s, size_t len, uint64_t height, uint64_t width, std::vector<uint32_t>* counts,
                     std::string* error) {
  counts->clear();
  size_t p = 0;
  while (p < len) {
    int64_t x = 0;
    int k = 0;
    uint32_t c = 0;
    const size_t begin = p;
    do {
      if (p >= len) {
        *error = "compressed RLE ends inside a value (at char " + std::to_string(begin) + ")";
        return false;
      }
      const uint32_t u = static_cast<std::make_unsigned_t<Ch>>(s[p]);
      if (u < 48 || u > 48 + 63) {
        *error = "compressed RLE has an invalid char '" + UnitText(s[p]) + "' at " + std::to_string(p) +
                 " (expected '0'..'o')";
        return false;
      }
      c = u - 48;
      if (k >= 7) {
        *error = "compressed RLE value at char " + std::to_string(begin) + " is too long";
        return false;
      }
      x += static_cast<int64_t>(c & 0x1f) << (5 * k);
      p++;
      k++;
    } while (c & 0x20);
    if (c & 0x10) x -= int64_t{1} << (5 * k);
    const size_t m = counts->size();
    if (m > 2) x += (*counts)[m - 2];
    if (x < 0 || x > int64_t{UINT32_MAX}) {
      *error = "compressed RLE decodes to an invalid run length " + std::to_string(x) + " (count " + std::to_string(m) +
               ")";
      return false;
    }
    counts->push_back(static_cast<uint32_t>(x));
  }
  // checkCountsSum: exact sum (JS sums in float64, which is exact here: the sum stays below 2^53 unless
  // the string has more than 2^21 chars, and then it cannot equal height * width anyway).
  uint64_t sum = 0;
  double js_sum = 0;
  for (uint32_t c : *counts) sum += c;
  if (sum != height * width) {
    for (uint32_t c : *counts) js_sum += c;  // the value the JS message prints
    *error = "RLE counts sum to " + JsNumber(js_sum) + " but size [" + std::to_string(height) + ", " +
             std::to_string(width) + "] has " + std::to_string(height * width) + " pixels";
    return false;
  }
  return true;
}

template bool ParseCocoString<char>(const char*, size_t, uint64_t, uint64_t, std::vector<uint32_t>*, std::string*);
template bool ParseCocoString<char16_t>(const char16_t*, size_t, uint64_t, uint64_t, std::vector<uint32_t>*,
                                        std::string*);

}  // namespace maskbox::cpu
