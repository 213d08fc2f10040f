// The preparation of COCO evaluation on the CPU: the `cocoEval` kernel's arguments, value for value what
// the reference prepareCocoEval (src/ops/cocoEvalPrepare.ts) builds from JS objects, built here from flat
// arrays — the native results loader's (native/cpu/cocoJson.cc, kept by src/io/cocoJsonNative.ts) and the
// ground truth's, flattened once (src/backends/cpu/cocoEvalPrepare.ts). Steps, as the reference:
// 1. keys: each annotation's and detection's cell from its image and category (binary search in the
//    ascending id lists); a detection outside them is ignored (counted);
// 2. a stable counting sort by key (pycocotools' order: category-major with useCats, else per image with
//    its categories in id order; file order within a key);
// 3. per cell: detections stably sorted by score descending (ties keep step 2's order, as pycocotools'
//    mergesort over the cell's list), cut at the largest maxDets;
// 4. gather, in parallel: areas, scores, crowd flags, boxes (segm: the masks' toBbox, CocoCountsToBbox, or
//    the loader's where it computed just that), and the masks' counts copied into one array per side.
//
// JS: addon.cocoEvalPrepare({ iouType, useCats, maxDet, imgIds, catIds, gt, dt, out }) -> Promise<{ numGt,
//     numDt, gtCounts, dtCounts, ignored, missingMask }>. `out` is shaped like the kernel's CocoEvalArgs,
//     allocated in JS at the sizes reached when nothing is left out (every annotation / detection kept);
//     the kernel arguments are its first numGt / numDt entries (and gtCounts / dtCounts counts).
//     missingMask >= 0: the first evaluated ground truth (cell order) without a mask; nothing else is
//     filled then, and the caller lets the reference report it.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <stdexcept>
#include <string>
#include <vector>

#include "cpu/cocoJson.h"
#include "hugePages.h"
#include "pool.h"

namespace maskbox::cpu {

namespace {

/** One side (ground truth or detections) in input order; masks (segm) as concatenated counts. */
struct PrepareSide {
  size_t n = 0;
  const double *image_id = nullptr, *category_id = nullptr, *area = nullptr, *bbox = nullptr;
  const double* score = nullptr;    // detections
  const uint8_t* crowd = nullptr;   // ground truth
  const uint32_t* counts = nullptr;  // segm: mask j is counts[start[j] .. start[j+1])
  const double* start = nullptr;
  const double* size = nullptr;      // segm: height, width per mask
  const uint8_t* present = nullptr;  // ground truth, segm: 0 where an annotation has no mask
  const uint8_t* box_from_mask = nullptr;  // detections, segm, optional: 1 where bbox is the mask's toBbox
};

struct CocoPrepareInput {
  bool segm = false, use_cats = true;
  size_t max_det = 0;
  const double* img_ids = nullptr;  // ascending
  const double* cat_ids = nullptr;  // ascending
  size_t I = 0, Kc = 0;
  PrepareSide gt, dt;
};

/** Where one side's masks go (FlatRles of the kernel). */
struct RleOut {
  uint32_t* counts = nullptr;
  int32_t *start = nullptr, *height = nullptr, *width = nullptr;
};

struct CocoPrepareOutput {
  int32_t *gt_start = nullptr, *dt_start = nullptr;
  double *gt_box = nullptr, *gt_area = nullptr, *dt_box = nullptr, *dt_area = nullptr, *dt_score = nullptr;
  uint8_t* gt_crowd = nullptr;
  RleOut gt_rle, dt_rle;
  size_t num_gt = 0, num_dt = 0, gt_counts = 0, dt_counts = 0, ignored = 0;
  int64_t missing_mask = -1;
};

constexpr uint32_t kNone = UINT32_MAX;

/** Position of `v` in the ascending `ids`, or -1 (SameValueZero as the reference's Map: -0 finds 0). */
int64_t IndexOf(const double* ids, size_t n, double v) {
  const double* it = std::lower_bound(ids, ids + n, v);
  return it != ids + n && *it == v ? it - ids : -1;
}

/** The key (cell-ordered) of each item, kNone when its image or category is not evaluated. */
std::vector<uint32_t> Keys(const CocoPrepareInput& in, const PrepareSide& s) {
  std::vector<uint32_t> keys(s.n);
  pool::ParallelFor(s.n, 4096, [&](size_t begin, size_t end) {
    for (size_t j = begin; j < end; j++) {
      const int64_t i = IndexOf(in.img_ids, in.I, s.image_id[j]), k = IndexOf(in.cat_ids, in.Kc, s.category_id[j]);
      keys[j] = i < 0 || k < 0 ? kNone
                               : static_cast<uint32_t>(in.use_cats ? k * static_cast<int64_t>(in.I) + i
                                                                   : i * static_cast<int64_t>(in.Kc) + k);
    }
  });
  return keys;
}

/** Stable counting sort of the items by key: start [keys + 1] and the items with a key, in order. */
void Bucket(const std::vector<uint32_t>& keys, size_t num_keys, std::vector<uint32_t>* start,
            std::vector<uint32_t>* items) {
  start->assign(num_keys + 1, 0);
  size_t n = 0;
  for (uint32_t k : keys)
    if (k != kNone) (*start)[k + 1]++, n++;
  for (size_t q = 0; q < num_keys; q++) (*start)[q + 1] += (*start)[q];
  std::vector<uint32_t> fill(start->begin(), start->end() - 1);
  items->resize(n);
  for (size_t j = 0; j < keys.size(); j++)
    if (keys[j] != kNone) (*items)[fill[keys[j]]++] = static_cast<uint32_t>(j);
}

/** JS ToInt32 of a non-negative integer (Int32Array.from on the reference's heights and widths). */
inline int32_t ToInt32(double v) { return static_cast<int32_t>(static_cast<uint32_t>(static_cast<uint64_t>(v))); }

/**
 * Areas, boxes (segm: toBbox of the mask), masks' counts of the items `order` of side `s`, in that order;
 * `extra(j, item)` writes the side's own fields. Returns the number of counts written.
 */
template <typename Extra>
size_t Gather(const CocoPrepareInput& in, const PrepareSide& s, const std::vector<uint32_t>& order, double* box,
              double* area, const RleOut& rle, const char* what, Extra extra) {
  const size_t n = order.size();
  size_t total = 0;
  if (in.segm) {
    rle.start[0] = 0;
    for (size_t j = 0; j < n; j++) {
      const uint32_t q = order[j];
      total += static_cast<size_t>(s.start[q + 1] - s.start[q]);
      if (total > INT32_MAX) throw std::runtime_error(std::string(what) + ": more than 2^31 - 1 counts to evaluate");
      rle.start[j + 1] = static_cast<int32_t>(total);
    }
  }
  pool::ParallelFor(n, 1024, [&](size_t begin, size_t end) {
    for (size_t j = begin; j < end; j++) {
      const uint32_t q = order[j];
      area[j] = s.area[q];
      extra(j, q);
      if (!in.segm) {
        std::memcpy(box + 4 * j, s.bbox + 4 * q, 4 * sizeof(double));
        continue;
      }
      const size_t c0 = static_cast<size_t>(s.start[q]), m = static_cast<size_t>(s.start[q + 1]) - c0;
      const double h = s.size[2 * q], w = s.size[2 * q + 1];
      rle.height[j] = ToInt32(h);
      rle.width[j] = ToInt32(w);
      if (s.box_from_mask && s.box_from_mask[q])  // the loader's CocoCountsToBbox of these counts
        std::memcpy(box + 4 * j, s.bbox + 4 * q, 4 * sizeof(double));
      else
        CocoCountsToBbox(s.counts + c0, m, static_cast<uint64_t>(h), static_cast<uint64_t>(w), box + 4 * j);
      if (m) std::memcpy(rle.counts + rle.start[j], s.counts + c0, m * sizeof(uint32_t));
    }
  });
  return total;
}

void CocoPrepare(const CocoPrepareInput& in, CocoPrepareOutput* out) {
  const size_t I = in.I, num_keys = in.Kc * I;
  const size_t cells = (in.use_cats ? in.Kc : 1) * I, stride = in.use_cats ? 1 : in.Kc;
  std::vector<uint32_t> gt_key_start, gt_items, dt_key_start, dt_items;
  Bucket(Keys(in, in.gt), num_keys, &gt_key_start, &gt_items);
  const std::vector<uint32_t> dt_keys = Keys(in, in.dt);
  out->ignored = static_cast<size_t>(std::count(dt_keys.begin(), dt_keys.end(), kNone));
  Bucket(dt_keys, num_keys, &dt_key_start, &dt_items);

  if (in.segm && in.gt.present) {
    for (uint32_t q : gt_items) {
      if (!in.gt.present[q]) {
        out->missing_mask = q;
        return;
      }
    }
  }
  for (size_t c = 0; c <= cells; c++) out->gt_start[c] = static_cast<int32_t>(gt_key_start[c * stride]);
  out->dt_start[0] = 0;
  for (size_t c = 0; c < cells; c++) {
    const size_t len = dt_key_start[(c + 1) * stride] - dt_key_start[c * stride];
    out->dt_start[c + 1] = out->dt_start[c] + static_cast<int32_t>(std::min(len, in.max_det));
  }
  // Per cell: the stable score sort and the maxDets cut.
  std::vector<uint32_t> kept(static_cast<size_t>(out->dt_start[cells]));
  const double* score = in.dt.score;
  pool::ParallelFor(cells, 256, [&](size_t begin, size_t end) {
    std::vector<uint32_t> list;
    for (size_t c = begin; c < end; c++) {
      const uint32_t s0 = dt_key_start[c * stride], s1 = dt_key_start[(c + 1) * stride];
      list.assign(dt_items.begin() + s0, dt_items.begin() + s1);
      if (list.size() > 1)
        std::stable_sort(list.begin(), list.end(), [score](uint32_t x, uint32_t y) { return score[x] > score[y]; });
      std::copy_n(list.begin(), out->dt_start[c + 1] - out->dt_start[c], kept.begin() + out->dt_start[c]);
    }
  });

  out->num_gt = gt_items.size();
  out->num_dt = kept.size();
  out->gt_counts = Gather(in, in.gt, gt_items, out->gt_box, out->gt_area, out->gt_rle, "gt",
                          [&](size_t j, uint32_t q) { out->gt_crowd[j] = in.gt.crowd[q] ? 1 : 0; });
  out->dt_counts = Gather(in, in.dt, kept, out->dt_box, out->dt_area, out->dt_rle, "dt",
                          [&](size_t j, uint32_t q) { out->dt_score[j] = score[q]; });
}

}  // namespace
}  // namespace maskbox::cpu

// ---- N-API binding (left out of the fuzz build, which defines MASKBOX_CORE_ONLY) ----
#ifndef MASKBOX_CORE_ONLY
#include "common.h"
#include "cpu/cocoArgs.h"

namespace maskbox::cpu {

namespace {

class CocoPrepareWorker : public Worker {
 public:
  using Worker::Worker;
  CocoPrepareInput in;
  CocoPrepareOutput out;

  size_t gt_counts_room = 0, dt_counts_room = 0;  // segm: the out counts buffers' lengths

  void Run() override {
    // Fresh on a cold call (~90 MB at 5,000 images): huge pages spare a fault per 4 KiB (hugePages.h).
    AdviseHugePages(out.gt_rle.counts, gt_counts_room * sizeof(uint32_t));
    AdviseHugePages(out.dt_rle.counts, dt_counts_room * sizeof(uint32_t));
    CocoPrepare(in, &out);
  }

  Napi::Value Result(Napi::Env env) override {
    Napi::Object o = Napi::Object::New(env);
    o.Set("numGt", static_cast<double>(out.num_gt));
    o.Set("numDt", static_cast<double>(out.num_dt));
    o.Set("gtCounts", static_cast<double>(out.gt_counts));
    o.Set("dtCounts", static_cast<double>(out.dt_counts));
    o.Set("ignored", static_cast<double>(out.ignored));
    o.Set("missingMask", static_cast<double>(out.missing_mask));
    return o;
  }
};

Napi::Object ObjectProp(const Args& args, Napi::Object o, const char* key) {
  Napi::Value v = o.Get(key);
  if (!v.IsObject() || v.IsArray() || v.IsTypedArray()) args.TypeFail(key, "an object", Describe(v));
  return v.As<Napi::Object>();
}

/** Sorted strictly ascending (the binary search's precondition). */
void CheckAscending(const Args& args, const char* name, const double* v, size_t n) {
  for (size_t i = 1; i < n; i++)
    if (!(v[i] > v[i - 1])) args.RangeFail(name, "strictly ascending ids", "a disorder at index " + std::to_string(i));
}

/** Reads one input side (`gt` or `dt`): n items, `count` their number; segm: masks. */
void ReadSide(const Args& args, Worker* w, Napi::Object o, const std::string& base, bool is_gt, bool segm,
              PrepareSide* s) {
  auto image = F64(args, o, "imageId", base + ".imageId");
  const size_t n = image.ElementLength();
  if (n >= INT32_MAX) args.RangeFail(base.c_str(), "fewer than 2^31 - 1 entries", std::to_string(n));
  s->n = n;
  auto len = [&](const Napi::TypedArray& a, const std::string& name, size_t k, const char* what) {
    args.Length(name.c_str(), a.ElementLength(), k, what);
  };
  auto category = F64(args, o, "categoryId", base + ".categoryId");
  auto area = F64(args, o, "area", base + ".area");
  auto bbox = F64(args, o, "bbox", base + ".bbox");
  len(category, base + ".categoryId", n, "one per entry");
  len(area, base + ".area", n, "one per entry");
  len(bbox, base + ".bbox", 4 * n, "4 values per entry");
  s->image_id = w->HoldConst(image).data;
  s->category_id = w->HoldConst(category).data;
  s->area = w->HoldConst(area).data;
  s->bbox = w->HoldConst(bbox).data;
  if (is_gt) {
    auto crowd = U8(args, o, "crowd", base + ".crowd");
    len(crowd, base + ".crowd", n, "one per entry");
    s->crowd = w->HoldConst(crowd).data;
  } else {
    auto score = F64(args, o, "score", base + ".score");
    len(score, base + ".score", n, "one per entry");
    CheckFinite(args, (base + ".score").c_str(), score.Data(), n);  // the sort needs a total order
    s->score = w->HoldConst(score).data;
  }
  if (!segm) return;
  auto counts = U32(args, o, "counts", base + ".counts");
  auto start = F64(args, o, "countsStart", base + ".countsStart");
  auto size = F64(args, o, "size", base + ".size");
  const std::string sn = base + ".countsStart", zn = base + ".size";
  len(start, sn, n + 1, "one offset per entry + 1");
  len(size, zn, 2 * n, "height, width per entry");
  for (size_t j = 0; j <= n; j++)
    if (start[j] != std::floor(start[j])) args.RangeFail(sn.c_str(), "integer offsets", "a fraction at " + std::to_string(j));
  CheckOffsets(args, sn.c_str(), start.Data(), n, counts.ElementLength(), true);
  for (size_t j = 0; j < 2 * n; j++)
    if (!(size[j] >= 0 && size[j] <= 4294967296.0 && size[j] == std::floor(size[j])))
      args.RangeFail(zn.c_str(), "integer sizes in [0, 2^32]", "a bad size at index " + std::to_string(j));
  s->counts = w->HoldConst(counts).data;
  s->start = w->HoldConst(start).data;
  s->size = w->HoldConst(size).data;
  if (is_gt) {
    auto present = U8(args, o, "present", base + ".present");
    len(present, base + ".present", n, "one flag per entry");
    s->present = w->HoldConst(present).data;
  } else if (!o.Get("boxFromMask").IsUndefined()) {
    auto from_mask = U8(args, o, "boxFromMask", base + ".boxFromMask");
    len(from_mask, base + ".boxFromMask", n, "one flag per entry");
    s->box_from_mask = w->HoldConst(from_mask).data;
  }
}

/** One side's outputs at their upper bounds: n entries, `counts` counts. */
void ReadOut(const Args& args, CocoPrepareWorker* w, Napi::Object out, bool is_gt, bool segm, size_t n, size_t counts,
             CocoPrepareOutput* o) {
  const std::string p = is_gt ? "gt" : "dt";
  auto box = F64(args, out, (p + "Box").c_str(), "out." + p + "Box");
  auto area = F64(args, out, (p + "Area").c_str(), "out." + p + "Area");
  args.Length(("out." + p + "Box").c_str(), box.ElementLength(), 4 * n, "4 values per entry");
  args.Length(("out." + p + "Area").c_str(), area.ElementLength(), n, "one per entry");
  (is_gt ? o->gt_box : o->dt_box) = w->Hold(box).data;
  (is_gt ? o->gt_area : o->dt_area) = w->Hold(area).data;
  if (is_gt) {
    auto crowd = U8(args, out, "gtCrowd", "out.gtCrowd");
    args.Length("out.gtCrowd", crowd.ElementLength(), n, "one per entry");
    o->gt_crowd = w->Hold(crowd).data;
  } else {
    auto score = F64(args, out, "dtScore", "out.dtScore");
    args.Length("out.dtScore", score.ElementLength(), n, "one per entry");
    o->dt_score = w->Hold(score).data;
  }
  if (!segm) return;
  const std::string base = "out." + p + "Rle";
  Napi::Object r = ObjectProp(args, out, (p + "Rle").c_str());
  auto c = U32(args, r, "counts", base + ".counts");
  auto start = I32(args, r, "start", base + ".start");
  auto height = I32(args, r, "height", base + ".height");
  auto width = I32(args, r, "width", base + ".width");
  if (c.ElementLength() < counts)
    args.RangeFail((base + ".counts").c_str(), "room for every count", "length " + std::to_string(c.ElementLength()));
  args.Length((base + ".start").c_str(), start.ElementLength(), n + 1, "one offset per entry + 1");
  args.Length((base + ".height").c_str(), height.ElementLength(), n, "one per entry");
  args.Length((base + ".width").c_str(), width.ElementLength(), n, "one per entry");
  RleOut& d = is_gt ? o->gt_rle : o->dt_rle;
  (is_gt ? w->gt_counts_room : w->dt_counts_room) = c.ElementLength();
  d.counts = w->Hold(c).data;
  d.start = w->Hold(start).data;
  d.height = w->Hold(height).data;
  d.width = w->Hold(width).data;
}

}  // namespace

Napi::Value JsCocoEvalPrepare(const Napi::CallbackInfo& info) {
  Args args(info, "cocoEvalPrepare");
  Napi::Object o = info[0].As<Napi::Object>();
  auto w = std::make_unique<CocoPrepareWorker>(info.Env(), "cocoEvalPrepare");
  CocoPrepareInput& in = w->in;
  const std::string type = args.String("iouType");
  if (type != "bbox" && type != "segm") args.RangeFail("iouType", "'bbox' or 'segm'", "'" + type + "'");
  in.segm = type == "segm";
  in.use_cats = args.Boolean("useCats");
  in.max_det = static_cast<size_t>(args.Integer("maxDet", 1, INT32_MAX));
  auto img_ids = args.Float64("imgIds"), cat_ids = args.Float64("catIds");
  in.I = img_ids.ElementLength();
  in.Kc = cat_ids.ElementLength();
  CheckAscending(args, "imgIds", img_ids.Data(), in.I);
  CheckAscending(args, "catIds", cat_ids.Data(), in.Kc);
  if (in.I * in.Kc >= INT32_MAX) args.RangeFail("imgIds", "imgIds * catIds below 2^31 - 1", "too many cells");
  in.img_ids = w->HoldConst(img_ids).data;
  in.cat_ids = w->HoldConst(cat_ids).data;
  ReadSide(args, w.get(), ObjectProp(args, o, "gt"), "gt", true, in.segm, &in.gt);
  ReadSide(args, w.get(), ObjectProp(args, o, "dt"), "dt", false, in.segm, &in.dt);

  Napi::Object out = ObjectProp(args, o, "out");
  const size_t cells = (in.use_cats ? in.Kc : 1) * in.I;
  auto gt_start = I32(args, out, "gtStart", "out.gtStart"), dt_start = I32(args, out, "dtStart", "out.dtStart");
  args.Length("out.gtStart", gt_start.ElementLength(), cells + 1, "one offset per cell + 1");
  args.Length("out.dtStart", dt_start.ElementLength(), cells + 1, "one offset per cell + 1");
  w->out.gt_start = w->Hold(gt_start).data;
  w->out.dt_start = w->Hold(dt_start).data;
  const auto total = [&](const PrepareSide& s) { return in.segm ? static_cast<size_t>(s.start[s.n]) : 0; };
  ReadOut(args, w.get(), out, true, in.segm, in.gt.n, total(in.gt), &w->out);
  ReadOut(args, w.get(), out, false, in.segm, in.dt.n, total(in.dt), &w->out);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
