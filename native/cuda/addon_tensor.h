// Device-tensor bindings (addon_tensor.cc), added to the `cuda` object by addon_cuda.cc.
#pragma once

#include <napi.h>

namespace maskbox::cuda {
void ExportTensors(Napi::Env env, Napi::Object o);
}  // namespace maskbox::cuda
