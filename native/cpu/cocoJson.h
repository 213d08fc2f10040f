// Fast loader of COCO results JSON (an array of {image_id, category_id, score, bbox, segmentation}) into
// flat arrays, with a small hand-written JSON tokenizer (no dependencies). No N-API: fuzz/fuzz_coco_json.cc
// links it directly; the binding is at the end of cocoJson.cc.
//
// The contract is src/io/cocoJson.ts's parseCocoResults(JSON.parse(text)): whenever this parser
// succeeds, the JS side (src/io/cocoJsonNative.ts) builds from its arrays exactly the CocoResults the JS
// path gives. It is at least as strict as JSON.parse (RFC 8259 grammar, no extensions) and declines
// (returns false with a message) everything it does not handle itself — malformed JSON, any value of an
// unexpected type or range, polygon segmentations, -0 in sizes or counts, numbers out of float64 range,
// nesting deeper than kMaxDepth — and the caller then runs the JS path, which gives the exact ParseError.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace maskbox::cpu {

/** Nesting depth (arrays and objects) past which the parser declines (JS.parse handles any depth). */
constexpr int kCocoJsonMaxDepth = 512;

/** Segmentation of one result. */
enum CocoSegKind : uint8_t {
  kSegNone = 0,    // no 'segmentation' key
  kSegString = 1,  // {size, counts: "compressed string"}
  kSegArray = 2,   // {size, counts: [run lengths]}
};

/** One results file, flattened (N entries, in file order). */
struct CocoResultsFlat {
  /** pycocotools' loadRes: decided by the first entry (a non-empty bbox -> box results, else masks). */
  bool segm = false;
  std::vector<double> image_id, category_id, score;
  /** 4 per entry: the given bbox; mask results without one: the RLE's toBbox. */
  std::vector<double> bbox;
  /** Box results: w * h; mask results: the RLE's area. */
  std::vector<double> area;
  /** Mask results: 1 where `bbox` is the RLE's toBbox (the entry has no bbox of its own). */
  std::vector<uint8_t> box_from_mask;
  std::vector<uint8_t> seg_kind;
  /** 2 per entry: segmentation.size (height, width); 0 without a segmentation. */
  std::vector<double> seg_size;
  /** kSegString entries' counts strings, unescaped (printable ASCII only), concatenated; entry j is [text_start[j], text_start[j+1]). */
  std::vector<uint8_t> text;
  std::vector<uint64_t> text_start;
  /** kSegArray entries' counts as given; mask results: every entry's counts (strings decoded). Entry j is [counts_start[j], counts_start[j+1]). */
  std::vector<uint32_t> counts;
  std::vector<uint64_t> counts_start;
};

/**
 * Parses a whole results file (UTF-8 bytes). Returns false with `*error` ("byte 123: ...") when the
 * bytes are not JSON or hold anything this loader leaves to the JS path (see the file comment).
 * Mask results' compressed strings are decoded in parallel (pool::ParallelFor) with ParseCocoString.
 */
bool ParseCocoResultsJson(const uint8_t* data, size_t len, CocoResultsFlat* out, std::string* error);

/** pycocotools' rleToBbox of counts (uint32 arithmetic, as countsToBbox in src/backends/js/cocoRle.ts). */
void CocoCountsToBbox(const uint32_t* counts, size_t m, uint64_t h, uint64_t w, double* out);

}  // namespace maskbox::cpu
