// The arguments the box ops (softNms, nmm, wbf) share: `boxes` [N*4] and `scores` [N] Float32Arrays and
// `classes` [N] Int32Array (optional or required), checked and held by the op's worker.
#pragma once

#include <string>

#include "common.h"

namespace maskbox::cpu {

/** Reads and checks boxes, scores and classes into `w` (fields boxes, scores, classes); returns N. */
template <typename W>
size_t HoldBoxArgs(const Args& args, W* w, bool classes_required) {
  auto boxes = args.Float32("boxes");
  args.MultipleOf("boxes", boxes.ElementLength(), 4, "a Float32Array whose length is a multiple of 4");
  const size_t n = boxes.ElementLength() / 4;
  if (n > size_t(INT32_MAX)) args.RangeFail("boxes", "at most 2^31-1 boxes", std::to_string(n) + " boxes");
  auto scores = args.Float32("scores");
  args.Length("scores", scores.ElementLength(), n, "one score per box");
  Napi::TypedArrayOf<int32_t> classes;
  if (classes_required) classes = args.Int32("classes");
  if (classes_required || args.OptionalInt32("classes", &classes)) {
    args.Length("classes", classes.ElementLength(), n, "one class per box");
    w->classes = w->HoldConst(classes);
  }
  w->boxes = w->HoldConst(boxes);
  w->scores = w->HoldConst(scores);
  return n;
}

}  // namespace maskbox::cpu
