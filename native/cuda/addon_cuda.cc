// N-API bindings of the CUDA kernels (plain C++: no CUDA header here, only maskbox_cuda.h). The same
// file serves the real build (maskbox.node, kernels compiled by nvcc) and the emulated one
// (maskbox-emu.node, kernels compiled by g++ against emu/cuda_emu.h). Exported as `addon.cuda`:
//   cuda.status() -> { code, error, count, name, major, minor, emulated }   (sync, cheap)
//   cuda.nms / yoloNms / rleEncode / logitsToRle / dice (args)  -> Promise, same arguments and results as the cpu ops: the
// argument parsing is the cpu bindings' own (JsNmsWith / JsYoloNmsWith), only the kernel differs.
//   cuda.resize / letterbox / rleOverlap / dbscan / baseline (args) -> Promise: the cpu bindings' own parsing too
// (JsResizeWith, ..., JsDbscanWith, JsBaselineWith);
//   cuda.rleDecode (args) -> Promise: the kernel contract's arguments (`runs` only), parsed here with the
// cpu bindings' helpers (rleNapi.h).
// Each kernel synchronises its stream before returning, so the Promise resolves on finished work.
#include "cuda/addon_cuda.h"

#include <cmath>

#include "cpu/resize.h"
#include "cpu/rleNapi.h"
#include "cuda/addon_tensor.h"
#include "cuda/maskbox_cuda.h"

namespace maskbox::cpu {
Napi::Value JsNmsWith(const Napi::CallbackInfo& info, NmsKernel kernel, const char* op);
Napi::Value JsYoloNmsWith(const Napi::CallbackInfo& info, YoloNmsKernel kernel, const char* op);
Napi::Value JsRleEncodeWith(const Napi::CallbackInfo& info, RleRunsKernel kernel, const char* op);
Napi::Value JsLogitsToRleWith(const Napi::CallbackInfo& info, LogitsToRleKernel kernel, const char* op);
Napi::Value JsDiceWith(const Napi::CallbackInfo& info, DiceKernel kernel, const char* op);
Napi::Value JsResizeWith(const Napi::CallbackInfo& info, ResizeKernel kernel, const char* op);
Napi::Value JsLetterboxWith(const Napi::CallbackInfo& info, LetterboxKernel kernel, const char* op);
Napi::Value JsRleOverlapWith(const Napi::CallbackInfo& info, RleOverlapKernel kernel, const char* op);
Napi::Value JsDbscanWith(const Napi::CallbackInfo& info, DbscanKernel kernel, const char* op);
Napi::Value JsBaselineWith(const Napi::CallbackInfo& info, BaselineKernel kernel, const char* op);
}  // namespace maskbox::cpu

namespace maskbox::cuda {
namespace {

Napi::Value JsStatus(const Napi::CallbackInfo& info) {
  const DeviceStatus st = Probe();
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("code", st.code);
  o.Set("error", st.error);
  o.Set("count", st.count);
  o.Set("name", st.name);
  o.Set("major", st.major);
  o.Set("minor", st.minor);
  o.Set("emulated", st.emulated);
  return o;
}

Napi::Value JsNms(const Napi::CallbackInfo& info) { return cpu::JsNmsWith(info, Nms, "cuda nms"); }
Napi::Value JsYoloNms(const Napi::CallbackInfo& info) { return cpu::JsYoloNmsWith(info, YoloNms, "cuda yoloNms"); }
Napi::Value JsRleEncode(const Napi::CallbackInfo& info) { return cpu::JsRleEncodeWith(info, RleRuns, "cuda rleEncode"); }
Napi::Value JsDice(const Napi::CallbackInfo& info) { return cpu::JsDiceWith(info, DiceCounts, "cuda dice"); }
Napi::Value JsLogitsToRle(const Napi::CallbackInfo& info) { return cpu::JsLogitsToRleWith(info, LogitsToRle, "cuda logitsToRle"); }
Napi::Value JsResize(const Napi::CallbackInfo& info) { return cpu::JsResizeWith(info, Resize, "cuda resize"); }
Napi::Value JsLetterbox(const Napi::CallbackInfo& info) { return cpu::JsLetterboxWith(info, Letterbox, "cuda letterbox"); }
Napi::Value JsRleOverlap(const Napi::CallbackInfo& info) { return cpu::JsRleOverlapWith(info, RleOverlap, "cuda rleOverlap"); }
Napi::Value JsDbscan(const Napi::CallbackInfo& info) { return cpu::JsDbscanWith(info, Dbscan, "cuda dbscan"); }
Napi::Value JsBaseline(const Napi::CallbackInfo& info) { return cpu::JsBaselineWith(info, Baseline, "cuda baseline"); }

class RleDecodeWorker : public Worker {
 public:
  using Worker::Worker;
  std::vector<View<const uint32_t>> runs;
  cpu::Shape shape;
  cpu::RleOrder order = cpu::RleOrder::kRow;
  View<uint8_t> out;
  void Run() override {
    std::vector<const uint32_t*> lists(runs.size());
    std::vector<size_t> lengths(runs.size());
    for (size_t c = 0; c < runs.size(); c++) lists[c] = runs[c].data, lengths[c] = runs[c].length;
    RleDecode(lists.data(), lengths.data(), runs.size(), shape.height, shape.width, order, out.data);
  }
};

Napi::Value JsRleDecode(const Napi::CallbackInfo& info) {
  Args args(info, "cuda rleDecode");
  Napi::Object o = cpu::Options(info);
  auto w = std::make_unique<RleDecodeWorker>(info.Env(), "cuda rleDecode");
  w->shape = cpu::ReadShape(args);
  w->order = cpu::ReadOrder(args);
  w->runs = cpu::HoldArrays<uint32_t>(w.get(), args, o, "runs", napi_uint32_array, "Uint32Array", UINT32_MAX);
  auto out = args.Uint8("out");
  size_t expected = 0;
  try {
    expected = CheckedMul(w->runs.size(), w->shape.pixels);
  } catch (const std::overflow_error&) {
    args.RangeFail("out", "channels * height * width that fits in memory", std::to_string(w->runs.size()) + " channels");
  }
  args.Length("out", out.ElementLength(), expected, "a Uint8Array of length channels * height * width");
  w->out = w->Hold(out);
  return Worker::Start(std::move(w));
}

}  // namespace

Napi::Object Exports(Napi::Env env) {
  Napi::Object o = Napi::Object::New(env);
  o.Set("status", Napi::Function::New(env, JsStatus, "status"));
  Napi::Array ops = Napi::Array::New(env);
  uint32_t i = 0;
#define MASKBOX_CUDA_OP(name, fn)                              \
  o.Set(#name, Napi::Function::New(env, fn, "cuda_" #name)); \
  ops.Set(i++, #name);
  MASKBOX_CUDA_OP(nms, JsNms)
  MASKBOX_CUDA_OP(yoloNms, JsYoloNms)
  MASKBOX_CUDA_OP(rleEncode, JsRleEncode)
  MASKBOX_CUDA_OP(logitsToRle, JsLogitsToRle)
  MASKBOX_CUDA_OP(dice, JsDice)
  MASKBOX_CUDA_OP(resize, JsResize)
  MASKBOX_CUDA_OP(letterbox, JsLetterbox)
  MASKBOX_CUDA_OP(rleDecode, JsRleDecode)
  MASKBOX_CUDA_OP(rleOverlap, JsRleOverlap)
  MASKBOX_CUDA_OP(dbscan, JsDbscan)
  MASKBOX_CUDA_OP(baseline, JsBaseline)
#undef MASKBOX_CUDA_OP
  o.Set("ops", ops);
  ExportTensors(env, o);  // device-resident chaining (addon_tensor.cc)
  o.Set("emulated", MB_EMULATED_BUILD != 0);
  return o;
}

}  // namespace maskbox::cuda
