// Run-length cores shared by the rleEncode / rleDecode / rleOverlap / dice ops (no N-API: fuzz/ links
// them directly). The spec is src/backends/js/rle.ts, dice.ts and cocoRle.ts; every output here must
// equal it exactly (integers), and every parse error must carry the same message.
//
// A channel's runs are uint32 pairs `start, length` (0-based start in the flattened order), sorted,
// non-overlapping. Row order flattens [H, W] row-major; column order flattens it column-major (Kaggle
// order='F', COCO counts). A channel has at most 2^32 - 1 pixels (the JS ops' limit).
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace maskbox::cpu {

enum class RleOrder { kRow, kCol };

/**
 * Runs of every channel of a [channels, height, width] uint8 mask in `order`, one vector per channel (the
 * rleEncode binding takes such a kernel from the cuda build; the CPU computes them itself).
 */
using RleRunsKernel = std::vector<std::vector<uint32_t>> (*)(const uint8_t* mask, size_t channels, uint32_t height,
                                                            uint32_t width, RleOrder order);

/** Above this many runs per pixel a column-order change goes through a byte transpose (as the JS kernel). */
constexpr double kDenseRunsPerPixel = 1.0 / 64;

// ---- encode (rleEncode.cc) ----

/**
 * Appends the runs of non-zero bytes of m[0, n) to `out` (starts offset by `base`). Reads 64 bytes a
 * step and skips blocks with no 0/non-0 transition, so it costs about one pass over memory.
 */
void ScanRuns(const uint8_t* m, size_t n, uint32_t base, std::vector<uint32_t>* out);

/** Scratch reused across channels by TransposeRuns (one per thread). */
struct TransposeScratch {
  std::vector<uint32_t> open, prev, cur, segs, first, order;
};

/**
 * Runs of the column-major flattening of [rows, cols] from the runs `r` (n values) of its row-major
 * flattening, on runs only (port of transposeRuns in src/backends/js/rle.ts). Requires valid runs.
 */
void TransposeRuns(const uint32_t* r, size_t n, uint32_t rows, uint32_t cols, std::vector<uint32_t>* out,
                   TransposeScratch* s);

/** Blocked byte transpose: src [rows, cols] row-major -> dst [cols, rows] row-major. */
void TransposeBytes(const uint8_t* src, size_t rows, size_t cols, uint8_t* dst);

/** The competition's RLE string of runs (1-based starts, single spaces; "" when empty), appended to `out`. */
void FormatRle(const uint32_t* runs, size_t n, std::string* out);

// ---- COCO counts and pycocotools' compressed strings (cocoRle.cc) ----

/** COCO counts (alternating 0s/1s, first a run of 0s, summing to `pixels`) from column-order runs. */
void RunsToCounts(const uint32_t* r, size_t n, uint64_t pixels, std::vector<uint32_t>* counts);

/** Column-order runs from counts (which must sum to at most 2^32 - 1). */
void CountsToRuns(const uint32_t* counts, size_t n, std::vector<uint32_t>* runs);

/** pycocotools' compressed counts string, appended to `out`. */
void FormatCocoString(const uint32_t* counts, size_t n, std::string* out);

/**
 * Parses a compressed counts string (`Ch` = char for bytes, char16_t for a JS string's UTF-16 units).
 * Returns false with `*error` set to the message src/backends/js/cocoRle.ts's cocoRleFromString throws
 * (positions in code units) on a char outside '0'..'o', a truncated or too long value, a count outside
 * 0..2^32-1, or counts that do not sum to height * width.
 */
template <typename Ch>
bool ParseCocoString(const Ch* s, size_t len, uint64_t height, uint64_t width, std::vector<uint32_t>* counts,
                     std::string* error);

// ---- decode (rleDecode.cc) ----

/**
 * Parses one competition RLE string (`start length ...`, 1-based, any ASCII whitespace) into 0-based
 * runs, as parseRle in src/ops/rle.ts: every token digits only, starts in 1..pixels, runs sorted and not
 * overlapping, inside the mask, an even token count; zero-length runs are dropped. Returns false with
 * `*error` set to the JS message (token number, excerpt and character position in code units).
 */
template <typename Ch>
bool ParseRle(const Ch* s, size_t len, uint64_t pixels, std::vector<uint32_t>* runs, std::string* error);

/** Checks runs (n values): n even, sorted, not overlapping, inside `pixels`. Returns "" or what is wrong. */
std::string CheckRuns(const uint32_t* r, size_t n, uint64_t pixels);

/** Scratch for DecodeChannel's column-order path (one per thread). */
struct DecodeScratch {
  std::vector<uint8_t> bytes;
};

/**
 * Writes the 0/1 mask [h, w] row-major of valid runs (n values, in `order`) to out[0, h*w): every byte,
 * or with `zeroed` (out is known to be all 0) only the 1s where that is cheaper.
 */
void DecodeChannel(const uint32_t* r, size_t n, uint32_t h, uint32_t w, RleOrder order, uint8_t* out,
                   DecodeScratch* s, bool zeroed = false);

// ---- overlap and Dice (rleOverlap.cc, dice.cc) ----

/** Pixels covered by both run lists (n values each, even; any values are memory-safe). */
uint64_t RunsIntersection(const uint32_t* a, size_t na, const uint32_t* b, size_t nb);
/** Pixels covered by a run list (sum of lengths). */
uint64_t RunsArea(const uint32_t* r, size_t n);

/** Counts of non-zero bytes over n bytes of a and b: {|a ∩ b|, |a|, |b|}. */
struct OverlapCounts {
  uint64_t inter = 0, a = 0, b = 0;
};
OverlapCounts CountOverlap(const uint8_t* a, const uint8_t* b, size_t n);

/**
 * Dice counts of `images` pairs of [classes, pixels] masks into out[(image * classes + class) * 3 + {0,1,2}]
 * = |pred ∩ truth|, |pred|, |truth| (the dice binding takes such a kernel from the cuda build).
 */
using DiceKernel = void (*)(const uint8_t* const* pred, const uint8_t* const* truth, size_t images, size_t classes,
                            size_t pixels, double* out);

/**
 * Overlap counts of `pairs` pairs of run lists into out[3k..3k+3) = |a[k] ∩ b[k]|, area of a[k], area of b[k]
 * (the rleOverlap binding, JsRleOverlapWith, takes such a kernel from the cuda build).
 */
using RleOverlapKernel = void (*)(const uint32_t* const* a, const size_t* a_lengths, const uint32_t* const* b,
                                  const size_t* b_lengths, size_t pairs, double* out);

/** Reads every byte of m[0, n) once (the benchmarks' stream-read floor); returns the OR of all bytes. */
uint8_t ReadAll(const uint8_t* m, size_t n);

// ---- shared with the error messages ----

/** A non-negative integer-valued double as JS's Number#toString writes it ("1e+21", "Infinity"). */
std::string JsNumber(double v);

}  // namespace maskbox::cpu
