// The fused YOLO post-process on the device, equal output for output to native/cpu/yoloNms.cc and
// src/backends/js/yoloNms.ts: a decode kernel (one thread per prediction row: objectness, best class
// lowest index on ties, `> conf`, class filter) writes one sort key per row; the stable sort orders
// the candidates by (score desc, row asc); the first maxCandidates become xyxy boxes plus the class
// offset (YOLOv5's max_wh trick) and go through the shared NMS core (nms.cu). Only the kept rows
// cross back to the host.
#include "maskbox_cuda.h"

#include "detail.h"

namespace maskbox::cuda {
namespace {
using namespace detail;

struct Decode {
  const float* pred;
  size_t count, width, num_classes;
  int columns, has_obj;
  double conf;
  const uint8_t* allowed;  // [num_classes] or null
};

__device__ __forceinline__ float At(const Decode& d, size_t row, size_t k) {
  return d.columns ? d.pred[k * d.count + row] : d.pred[row * d.width + k];
}

__global__ void __launch_bounds__(256) YoloDecode(Decode d, uint32_t* keys, int32_t* rows, int32_t* best_cls, float* best_score,
                                                  unsigned* count) {
  const size_t r = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= d.count) return;
  uint32_t key = kNoKey;
  float best = -INFINITY;
  int32_t bc = 0;
  const float obj = d.has_obj ? At(d, r, 4) : 1.0f;
  if (!d.has_obj || static_cast<double>(obj) > d.conf) {
    const size_t cs = d.has_obj ? 5 : 4;
    for (size_t c = 0; c < d.num_classes; c++) {  // first strict maximum: lowest index on ties, NaN never wins
      const float v = At(d, r, cs + c);
      const float s = d.has_obj ? v * obj : v;
      if (s > best) {
        best = s;
        bc = static_cast<int32_t>(c);
      }
    }
    if (static_cast<double>(best) > d.conf && (!d.allowed || d.allowed[bc])) {
      uint32_t u = __float_as_uint(best + 0.0f);
      u = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
      key = ~u;
      atomicAdd(count, 1u);
    }
  }
  keys[r] = key;
  rows[r] = static_cast<int32_t>(r);
  best_cls[r] = bc;
  best_score[r] = best;
}

__global__ void __launch_bounds__(256) YoloBoxes(Decode d, const int32_t* order, const int32_t* best_cls, const float* best_score,
                                                 size_t m, int agnostic, double max_wh, float* boxes, float* shifted, float* scores,
                                                 int32_t* classes) {
  const size_t j = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= m) return;
  const size_t r = size_t(order[j]);
  const float cx = At(d, r, 0), cy = At(d, r, 1);
  const float hw = At(d, r, 2) / 2.0f, hh = At(d, r, 3) / 2.0f;
  const float b[4] = {cx - hw, cy - hh, cx + hw, cy + hh};
  const int32_t c = best_cls[r];
  const float off = agnostic ? 0.0f : static_cast<float>(static_cast<double>(c) * max_wh);
  for (int q = 0; q < 4; q++) {
    boxes[4 * j + q] = b[q];
    shifted[4 * j + q] = b[q] + off;
  }
  scores[j] = best_score[r];
  classes[j] = c;
}

__global__ void __launch_bounds__(256) YoloOutput(const int32_t* keep, size_t k, const int32_t* order, const float* boxes,
                                                  const float* scores, const int32_t* classes, float* out_boxes, float* out_scores,
                                                  int32_t* out_classes, int32_t* out_rows) {
  const size_t i = size_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (i >= k) return;
  const size_t j = size_t(keep[i]);
  for (int q = 0; q < 4; q++) out_boxes[4 * i + q] = boxes[4 * j + q];
  out_scores[i] = scores[j];
  out_classes[i] = classes[j];
  out_rows[i] = order[j];
}

}  // namespace

cpu::YoloDetections YoloNms(const cpu::YoloNmsOptions& o) {
  if (o.num_classes == 0) throw std::invalid_argument("numClasses must be at least 1");
  if (!(o.iou >= 0.0 && o.iou <= 1.0)) throw std::invalid_argument("iou must be between 0 and 1");
  cpu::YoloDetections out;
  const size_t n = o.count;
  if (n == 0 || o.max_detections == 0 || o.max_candidates == 0) return out;
  if (n > size_t(INT32_MAX)) throw std::length_error("yoloNms: more than 2^31-1 predictions");
  cudaStream_t s = nullptr;
  const size_t width = 4 + (o.has_objectness ? 1 : 0) + o.num_classes;
  DeviceBuffer<float> pred(n * width);
  pred.Upload(o.pred, n * width, s);
  std::vector<uint8_t> allowed;
  DeviceBuffer<uint8_t> d_allowed(o.has_class_filter ? o.num_classes : 0);
  if (o.has_class_filter) {
    allowed.assign(o.num_classes, 0);
    for (size_t i = 0; i < o.class_filter_length; i++) {
      const int32_t c = o.class_filter[i];
      if (c >= 0 && static_cast<size_t>(c) < o.num_classes) allowed[size_t(c)] = 1;  // others never match
    }
    d_allowed.Upload(allowed.data(), allowed.size(), s);
  }
  const Decode d{pred.get(), n, width, o.num_classes, o.columns ? 1 : 0, o.has_objectness ? 1 : 0, o.conf,
                 o.has_class_filter ? d_allowed.get() : nullptr};

  DeviceBuffer<uint32_t> keys(n), keys_tmp(n);
  DeviceBuffer<int32_t> rows(n), rows_tmp(n), best_cls(n);
  DeviceBuffer<float> best_score(n);
  DeviceBuffer<unsigned> count(1);
  MB_CHECK(cudaMemsetAsync(count.get(), 0, sizeof(unsigned), s));
  LAUNCH(YoloDecode, Blocks(n, 256), 256, 0, s, d, keys.get(), rows.get(), best_cls.get(), best_score.get(), count.get());
  MB_CHECK_LAUNCH("YoloDecode");
  const size_t m = SortCandidates(keys.get(), rows.get(), keys_tmp.get(), rows_tmp.get(), n, count.get(), o.max_candidates, s);
  if (m == 0) return out;

  DeviceBuffer<float> boxes(4 * m), shifted(4 * m), scores(m);
  DeviceBuffer<int32_t> classes(m);
  LAUNCH(YoloBoxes, Blocks(m, 256), 256, 0, s, d, rows.get(), best_cls.get(), best_score.get(), m, o.agnostic ? 1 : 0, o.max_wh,
         boxes.get(), shifted.get(), scores.get(), classes.get());
  MB_CHECK_LAUNCH("YoloBoxes");
  DeviceBuffer<int32_t> kept(m);
  const size_t k = NmsSorted(shifted.get(), nullptr, m, o.iou, o.max_detections, kept.get(), s);
  if (k == 0) return out;
  DeviceBuffer<float> ob(4 * k), os(k);
  DeviceBuffer<int32_t> oc(k), orow(k);
  LAUNCH(YoloOutput, Blocks(k, 256), 256, 0, s, kept.get(), k, rows.get(), boxes.get(), scores.get(), classes.get(), ob.get(), os.get(),
         oc.get(), orow.get());
  MB_CHECK_LAUNCH("YoloOutput");
  out.boxes.resize(4 * k);
  out.scores.resize(k);
  out.classes.resize(k);
  out.rows.resize(k);
  ob.Download(out.boxes.data(), 4 * k, s);
  os.Download(out.scores.data(), k, s);
  oc.Download(out.classes.data(), k, s);
  orow.Download(out.rows.data(), k, s);
  MB_CHECK(cudaStreamSynchronize(s));
  return out;
}

}  // namespace maskbox::cuda
