// N-API bindings of the CUDA kernels (plain C++: no CUDA header here, only maskbox_cuda.h). The same
// file serves the real build (maskbox.node, kernels compiled by nvcc) and the emulated one
// (maskbox-emu.node, kernels compiled by g++ against emu/cuda_emu.h). Exported as `addon.cuda`:
//   cuda.status() -> { code, error, count, name, major, minor, emulated }   (sync, cheap)
//   cuda.nms / yoloNms / rleEncode / logitsToRle / dice (args)  -> Promise, same arguments and results as the cpu ops: the
// argument parsing is the cpu bindings' own (JsNmsWith / JsYoloNmsWith), only the kernel differs.
// Each kernel synchronises its stream before returning, so the Promise resolves on finished work.
#include "cuda/addon_cuda.h"

#include "cuda/maskbox_cuda.h"

namespace maskbox::cpu {
Napi::Value JsNmsWith(const Napi::CallbackInfo& info, NmsKernel kernel, const char* op);
Napi::Value JsYoloNmsWith(const Napi::CallbackInfo& info, YoloNmsKernel kernel, const char* op);
Napi::Value JsRleEncodeWith(const Napi::CallbackInfo& info, RleRunsKernel kernel, const char* op);
Napi::Value JsLogitsToRleWith(const Napi::CallbackInfo& info, LogitsToRleKernel kernel, const char* op);
Napi::Value JsDiceWith(const Napi::CallbackInfo& info, DiceKernel kernel, const char* op);
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
#undef MASKBOX_CUDA_OP
  o.Set("ops", ops);
  o.Set("emulated", MB_EMULATED_BUILD != 0);
  return o;
}

}  // namespace maskbox::cuda
