// N-API registration only: one line per op. Each op lives in native/cpu/<op>.cc (and later
// native/cuda/<op>.cu) and exports `Napi::Value Js<Op>(const Napi::CallbackInfo&)` returning a Promise.
#include <napi.h>

#include "pool.h"
#if MASKBOX_WITH_CUDA
#include "cuda/addon_cuda.h"
#endif

#define MASKBOX_CPU_OPS(X) \
  X(iou, JsIou)            \
  X(nms, JsNms)                 \
  X(yoloNms, JsYoloNms)         \
  X(cocoEval, JsCocoEval)       \
  X(cocoEvalPrepare, JsCocoEvalPrepare) \
  X(parseCocoResults, JsParseCocoResults) \
  X(cocoPolygons, JsCocoPolygons) \
  X(rleEncode, JsRleEncode)     \
  X(rleDecode, JsRleDecode)     \
  X(rleOverlap, JsRleOverlap)   \
  X(dice, JsDice)               \
  X(readFloor, JsReadFloor)     \
  X(letterbox, JsLetterbox)     \
  X(channelPercentiles, JsChannelPercentiles) \
  X(resize, JsResize)           \
  X(scaleBoxes, JsScaleBoxes)   \
  X(logitsToRle, JsLogitsToRle) \
  X(dbscan, JsDbscan)           \
  X(baseline, JsBaseline)       \
  X(softNms, JsSoftNms)         \
  X(nmm, JsNmm)                 \
  X(wbf, JsWbf)                 \
  X(maskIou, JsMaskIou)         \
  X(pngDecode, JsPngDecode)

namespace maskbox::cpu {
#define MASKBOX_DECLARE(name, fn) Napi::Value fn(const Napi::CallbackInfo& info);
MASKBOX_CPU_OPS(MASKBOX_DECLARE)
#undef MASKBOX_DECLARE
}  // namespace maskbox::cpu

namespace maskbox {
Napi::Value JsTuneMalloc(const Napi::CallbackInfo& info);  // mallocTuning.cc
namespace cpu {
Napi::Value JsPngZlib(const Napi::CallbackInfo& info);  // cpu/pngDecode.cc
}  // namespace cpu
}  // namespace maskbox

namespace {

// Build facts for `maskbox doctor` and the loader's checks (sync; cheap).
Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", MASKBOX_VERSION);
  o.Set("napiVersion", NAPI_VERSION);
  o.Set("threads", static_cast<double>(maskbox::pool::Threads()));
  o.Set("cuda", MASKBOX_WITH_CUDA != 0);
#ifdef MASKBOX_SANITIZE
  o.Set("sanitize", true);
#else
  o.Set("sanitize", false);
#endif
#if defined(__clang__)
  o.Set("compiler", "clang " __clang_version__);
#elif defined(__GNUC__)
  o.Set("compiler", "gcc " __VERSION__);
#else
  o.Set("compiler", "unknown");
#endif
  Napi::Array ops = Napi::Array::New(env);
  uint32_t i = 0;
#define MASKBOX_NAME(name, fn) ops.Set(i++, #name);
  MASKBOX_CPU_OPS(MASKBOX_NAME)
#undef MASKBOX_NAME
  o.Set("ops", ops);
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("tuneMalloc", Napi::Function::New(env, maskbox::JsTuneMalloc, "tuneMalloc"));
  exports.Set("pngZlib", Napi::Function::New(env, maskbox::cpu::JsPngZlib, "pngZlib"));
#define MASKBOX_REGISTER(name, fn) exports.Set(#name, Napi::Function::New(env, maskbox::cpu::fn, #name));
  MASKBOX_CPU_OPS(MASKBOX_REGISTER)
#undef MASKBOX_REGISTER
#if MASKBOX_WITH_CUDA
  exports.Set("cuda", maskbox::cuda::Exports(env));  // native/cuda/addon_cuda.cc
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(maskbox, Init)
