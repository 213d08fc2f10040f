// The lab's DBSCAN baseline detector on the CPU, one native call for the whole chain: the 3x3 filter
// chain (filter3x3.cc) -> coordinates of the kept pixels, row-major -> DBSCAN over (row, col) as the
// lab's np.argwhere gave them to sklearn (dbscan.cc) -> one min/max box per cluster. Equals
// src/backends/js/baseline.ts output for output.
// JS: addon.baseline({ data: Uint8Array [h*w*channels], width, height, channels, eps, minSamples, passes,
//     unit: boolean, edges: boolean }) -> Promise<{ boxes: Float32Array [4K], sizes: Int32Array [K],
//     points: Int32Array [2M] (x, y), labels: Int32Array [M] }>.
#include <algorithm>
#include <cstdint>
#include <limits>
#include <stdexcept>
#include <vector>

#include "cpu/baseline.h"
#include "cpu/dbscan.h"
#include "cpu/filter3x3.h"
#include "pool.h"

namespace maskbox::cpu {

void CheckBaselineOptions(const BaselineOptions& o) {
  const size_t w = o.width, h = o.height;
  if (w == 0 || h == 0 || w > kMaxBaselinePixels || h > kMaxBaselinePixels || w * h > kMaxBaselinePixels)
    throw std::invalid_argument("image size out of range");
  if (o.channels != 1 && o.channels != 3 && o.channels != 4) throw std::invalid_argument("channels must be 1, 3 or 4");
  if (o.passes < 1) throw std::invalid_argument("passes must be >= 1");
}

DbscanOptions BaselineDbscanOptions(const BaselineOptions& o, size_t m) {
  DbscanOptions d;
  d.n = m;
  d.dims = 2;
  d.eps = o.eps;
  d.min_samples = o.min_samples;
  d.raster_pixels = (o.width + 16) * (o.height + 16);  // the pixels are a raster already: DBSCAN may use one this size
  return d;
}

BaselineOutput Baseline(const uint8_t* data, const BaselineOptions& o) {
  CheckBaselineOptions(o);
  const size_t w = o.width, h = o.height;
  std::vector<uint8_t> mask(w * h);
  BaselineFilter(data, w, h, o.channels, o.passes, o.unit, mask.data());

  // Kept pixels in row-major order: per-row counts, offsets, then each row writes its own slice.
  std::vector<int64_t> start(h + 1, 0);
  pool::ParallelFor(h, 64, [&](size_t y0, size_t y1) {
    for (size_t y = y0; y < y1; y++) {
      int64_t k = 0;
      for (size_t x = 0; x < w; x++) k += mask[y * w + x];
      start[y + 1] = k;
    }
  });
  for (size_t y = 0; y < h; y++) start[y + 1] += start[y];
  const size_t m = static_cast<size_t>(start[h]);
  BaselineOutput out;
  out.points.resize(2 * m);
  std::vector<double> rc(2 * m);
  pool::ParallelFor(h, 64, [&](size_t y0, size_t y1) {
    for (size_t y = y0; y < y1; y++) {
      size_t k = static_cast<size_t>(start[y]);
      for (size_t x = 0; x < w; x++) {
        if (!mask[y * w + x]) continue;
        out.points[2 * k] = static_cast<int32_t>(x);
        out.points[2 * k + 1] = static_cast<int32_t>(y);
        rc[2 * k] = static_cast<double>(y);
        rc[2 * k + 1] = static_cast<double>(x);
        k++;
      }
    }
  });

  out.labels.resize(m);
  std::vector<uint8_t> core(m);
  const size_t clusters = static_cast<size_t>(Dbscan(rc.data(), BaselineDbscanOptions(o, m), out.labels.data(), core.data()));

  std::vector<int32_t> box(4 * clusters);
  for (size_t c = 0; c < clusters; c++) {
    box[4 * c] = box[4 * c + 1] = std::numeric_limits<int32_t>::max();
    box[4 * c + 2] = box[4 * c + 3] = std::numeric_limits<int32_t>::min();
  }
  out.sizes.assign(clusters, 0);
  for (size_t k = 0; k < m; k++) {
    const int32_t c = out.labels[k];
    if (c < 0) continue;
    const int32_t x = out.points[2 * k], y = out.points[2 * k + 1];
    int32_t* b = &box[4 * static_cast<size_t>(c)];
    out.sizes[c]++;
    b[0] = std::min(b[0], x);
    b[1] = std::min(b[1], y);
    b[2] = std::max(b[2], x);
    b[3] = std::max(b[3], y);
  }
  out.boxes.resize(4 * clusters);
  const int32_t grow = o.edges ? 1 : 0;
  for (size_t i = 0; i < 4 * clusters; i++) out.boxes[i] = static_cast<float>(box[i] + (i % 4 >= 2 ? grow : 0));
  return out;
}

}  // namespace maskbox::cpu

#ifndef MASKBOX_CORE_ONLY
#include "common.h"

namespace maskbox::cpu {
namespace {

class BaselineWorker : public Worker {
 public:
  using Worker::Worker;
  BaselineKernel kernel = Baseline;
  View<const uint8_t> data;
  BaselineOptions options;
  BaselineOutput out;

  void Run() override { out = kernel(data.data, options); }
  Napi::Value Result(Napi::Env env) override {
    Napi::Object r = Napi::Object::New(env);
    r.Set("boxes", ToFloat32Array(env, out.boxes));
    r.Set("sizes", ToInt32Array(env, out.sizes));
    r.Set("points", ToInt32Array(env, out.points));
    r.Set("labels", ToInt32Array(env, out.labels));
    return r;
  }
};

}  // namespace

// The binding with a given kernel (the cuda build passes its own: native/cuda/addon_cuda.cc).
Napi::Value JsBaselineWith(const Napi::CallbackInfo& info, BaselineKernel kernel, const char* op);

Napi::Value JsBaseline(const Napi::CallbackInfo& info) { return JsBaselineWith(info, Baseline, "baseline"); }

Napi::Value JsBaselineWith(const Napi::CallbackInfo& info, BaselineKernel kernel, const char* op) {
  Args args(info, op);
  auto w = std::make_unique<BaselineWorker>(info.Env(), op);
  w->kernel = kernel;
  BaselineOptions& o = w->options;
  auto data = args.Uint8("data");
  o.width = static_cast<size_t>(args.Integer("width", 1, kMaxBaselinePixels));
  o.height = static_cast<size_t>(args.Integer("height", 1, kMaxBaselinePixels));
  if (o.width * o.height > kMaxBaselinePixels)
    args.RangeFail("height", "width * height <= 2^26 pixels", std::to_string(o.width * o.height) + " pixels");
  o.channels = static_cast<int>(args.Integer("channels", 1, 4));
  if (o.channels == 2) args.RangeFail("channels", "1, 3 or 4", "2");
  args.Length("data", data.ElementLength(), o.width * o.height * static_cast<size_t>(o.channels),
              "a Uint8Array of length width * height * channels");
  o.eps = args.Number("eps", std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max());
  o.min_samples = args.Integer("minSamples", 1, std::numeric_limits<int32_t>::max());
  o.passes = static_cast<int>(args.Integer("passes", 1, 100));
  o.unit = args.Boolean("unit");
  o.edges = args.Boolean("edges");
  w->data = w->HoldConst(data);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
