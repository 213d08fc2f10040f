// maskbox-emu.node: the CUDA kernels compiled by g++ against the CPU emulation (emu/cuda_emu.h), for
// tests and CI on machines without a GPU. Never used by `auto`; `maskbox doctor` reports it as emulated.
#include <napi.h>

#include "cuda/addon_cuda.h"
#include "pool.h"

namespace {

Napi::Value Info(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
  o.Set("version", MASKBOX_VERSION);
  o.Set("napiVersion", NAPI_VERSION);
  o.Set("threads", static_cast<double>(maskbox::pool::Threads()));
  o.Set("cuda", true);
  o.Set("emulated", true);
#ifdef MASKBOX_SANITIZE
  o.Set("sanitize", true);
#else
  o.Set("sanitize", false);
#endif
#if defined(__GNUC__) && !defined(__clang__)
  o.Set("compiler", "gcc " __VERSION__ " (CUDA emulation)");
#else
  o.Set("compiler", "CUDA emulation");
#endif
  o.Set("ops", Napi::Array::New(env));
  return o;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("info", Napi::Function::New(env, Info, "info"));
  exports.Set("cuda", maskbox::cuda::Exports(env));
  return exports;
}

}  // namespace

NODE_API_MODULE(maskbox_emu, Init)
