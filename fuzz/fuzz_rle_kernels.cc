// Fuzzes the RLE / Dice kernels on masks made from the input (long runs of random non-zero values,
// crossing 64-byte blocks, odd sizes and misaligned starts): ScanRuns, TransposeRuns, TransposeBytes,
// DecodeChannel, RunsToCounts / CountsToRuns, FormatCocoString / ParseCocoString, RunsIntersection and
// CountOverlap, each against a byte-by-byte reference.
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "cpu/rle.h"

using namespace maskbox::cpu;

namespace {

std::vector<uint32_t> NaiveRuns(const uint8_t* m, size_t n) {
  std::vector<uint32_t> r;
  for (size_t i = 0; i < n;) {
    if (!m[i]) { i++; continue; }
    size_t j = i;
    while (j < n && m[j]) j++;
    r.push_back(static_cast<uint32_t>(i));
    r.push_back(static_cast<uint32_t>(j - i));
    i = j;
  }
  return r;
}

/** A mask of n bytes from the input: each input byte is a run (length 1..64 or 1..4, value 0 or 1..255). */
std::vector<uint8_t> MaskFrom(const uint8_t*& data, size_t& size, size_t n, bool short_runs) {
  std::vector<uint8_t> m(n, 0);
  size_t i = 0;
  while (i < n && size > 0) {
    const uint8_t b = *data++;
    size--;
    const size_t len = short_runs ? (b & 3) + 1 : (b & 63) + 1;
    const uint8_t v = (b & 64) ? static_cast<uint8_t>(1 + (b >> 7) * 127 + (b & 31)) : 0;
    for (size_t k = 0; k < len && i < n; k++) m[i++] = v;
  }
  return m;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 4) return 0;
  const uint8_t mode = data[0];
  const uint32_t h = data[1] % 80, w = data[2] % 80, skew = data[3] % 16;
  data += 4;
  size -= 4;
  const size_t n = size_t{h} * w;
  // A misaligned view: the mask starts `skew` bytes into its buffer.
  std::vector<uint8_t> buf(n + skew + 1, 0xaa);
  const std::vector<uint8_t> a0 = MaskFrom(data, size, n, mode & 1);
  if (mode & 2) std::fill(buf.begin(), buf.end(), 0);
  if (n) std::memcpy(buf.data() + skew, a0.data(), n);
  const uint8_t* a = buf.data() + skew;

  // Row order.
  std::vector<uint32_t> row;
  ScanRuns(a, n, 0, &row);
  if (row != NaiveRuns(a, n)) __builtin_trap();
  // Column order: on runs and through a byte transpose.
  std::vector<uint8_t> t(n);
  TransposeBytes(a, h, w, t.data());
  for (uint32_t y = 0; y < h; y++)
    for (uint32_t x = 0; x < w; x++)
      if (t[size_t{x} * h + y] != a[size_t{y} * w + x]) __builtin_trap();
  const std::vector<uint32_t> col = NaiveRuns(t.data(), n);
  std::vector<uint32_t> col2;
  TransposeScratch ts;
  TransposeRuns(row.data(), row.size(), h, w, &col2, &ts);
  if (col2 != col) __builtin_trap();
  // Decode both orders.
  std::vector<uint8_t> bin(n), out(n, 3);
  for (size_t i = 0; i < n; i++) bin[i] = a[i] != 0;
  DecodeScratch ds;
  DecodeChannel(row.data(), row.size(), h, w, RleOrder::kRow, out.data(), &ds);
  if (out != bin) __builtin_trap();
  std::fill(out.begin(), out.end(), 3);
  DecodeChannel(col.data(), col.size(), h, w, RleOrder::kCol, out.data(), &ds);
  if (out != bin) __builtin_trap();
  for (const RleOrder o : {RleOrder::kRow, RleOrder::kCol}) {  // into a zeroed buffer, writing only the 1s
    std::fill(out.begin(), out.end(), 0);
    const std::vector<uint32_t>& r = o == RleOrder::kRow ? row : col;
    DecodeChannel(r.data(), r.size(), h, w, o, out.data(), &ds, true);
    if (out != bin) __builtin_trap();
  }
  // COCO counts and strings.
  std::vector<uint32_t> counts, runs, back;
  RunsToCounts(col.data(), col.size(), n, &counts);
  uint64_t sum = 0;
  for (uint32_t c : counts) sum += c;
  if (sum != n) __builtin_trap();
  for (size_t i = 1; i + 1 < counts.size(); i++) if (counts[i] == 0) __builtin_trap();
  CountsToRuns(counts.data(), counts.size(), &runs);
  if (runs != col) __builtin_trap();
  std::string text, err;
  FormatCocoString(counts.data(), counts.size(), &text);
  if (!ParseCocoString(text.data(), text.size(), h, w, &back, &err) || back != counts) __builtin_trap();
  std::string rle;
  FormatRle(row.data(), row.size(), &rle);
  if (!ParseRle(rle.data(), rle.size(), n, &back, &err) || back != row) __builtin_trap();
  // Overlap with a second mask, on runs and on bytes.
  const std::vector<uint8_t> b = MaskFrom(data, size, n, mode & 4);
  std::vector<uint32_t> rb;
  ScanRuns(b.data(), n, 0, &rb);
  uint64_t inter = 0, sa = 0, sb = 0;
  for (size_t i = 0; i < n; i++) {
    inter += a[i] && b[i];
    sa += a[i] != 0;
    sb += b[i] != 0;
  }
  if (RunsIntersection(row.data(), row.size(), rb.data(), rb.size()) != inter) __builtin_trap();
  if (RunsArea(row.data(), row.size()) != sa) __builtin_trap();
  const OverlapCounts oc = CountOverlap(a, b.data(), n);
  if (oc.inter != inter || oc.a != sa || oc.b != sb) __builtin_trap();
  const uint8_t any = ReadAll(a, n);
  uint8_t ref = 0;
  for (size_t i = 0; i < n; i++) ref |= a[i];
  if (any != ref) __builtin_trap();
  return 0;
}
