// The one header every native/cuda/*.cu includes. Under nvcc: the CUDA runtime. Under a host compiler
// (the emulated build, see emu/cuda_emu.h and ../shared/CUDA-TESTING.md): the CPU emulation of CUDA.
//
// Source rules that keep one kernel source valid for both:
//   - launch only with LAUNCH(kernel, grid, block, smem, stream, args...) (a template kernel's name in
//     parentheses); dynamic shared memory only through EXTERN_SHARED(T, name), a different name per kernel;
//   - warp code uses *_sync intrinsics with explicit masks; no inline PTX; no spin-waits inside a block;
//   - shared math lives in __host__ __device__ inline functions (MB_HD) so C++ and CUDA use one formula.
#pragma once

#if defined(__CUDACC__)
#include <cuda_runtime.h>
#define LAUNCH(kernel, grid, block, smem, stream, ...) kernel<<<(grid), (block), (smem), (stream)>>>(__VA_ARGS__)
#define EXTERN_SHARED(T, name) extern __shared__ __align__(16) unsigned char name##_raw[]; T* name = reinterpret_cast<T*>(name##_raw)
#define MB_EMULATED 0
#else
#include "emu/cuda_emu.h"
#define LAUNCH(kernel, grid, block, smem, stream, ...) MBEMU_LAUNCH(kernel, grid, block, smem, stream, __VA_ARGS__)
#define EXTERN_SHARED(T, name) MBEMU_EXTERN_SHARED(T, name)
#define MB_EMULATED 1
#endif
