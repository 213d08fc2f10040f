// The `cuda` object of the addon (see addon_cuda.cc); registered by native/addon.cc when the addon is
// built with CUDA, and by addon_emu.cc in the emulated build.
#pragma once

#include <napi.h>

#ifndef MB_EMULATED_BUILD
#define MB_EMULATED_BUILD 0
#endif

namespace maskbox::cuda {
Napi::Object Exports(Napi::Env env);
}  // namespace maskbox::cuda
