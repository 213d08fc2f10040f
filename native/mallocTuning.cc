// Process-wide glibc malloc settings for batch commands (`maskbox detect` and friends), set from JS at the
// start of a batch because the environment variables (MALLOC_MMAP_THRESHOLD_, MALLOC_TRIM_THRESHOLD_)
// must exist before the process starts. Why: every 2048² frame allocates a fresh ~12.6 MB decode buffer
// (libvips) plus file and tensor buffers; above glibc's default threshold each one is a new mmap whose
// pages fault in one by one (costly on a paravirtualised VM) and is unmapped on free. Serving them from
// the heap and not trimming it reuses pages that are already mapped (docs/performance.md has the numbers).
// JS: addon.tuneMalloc({ mmapThreshold, trimThreshold }) -> { applied: boolean, reason: string } (sync).
#include <napi.h>

#include <cstdint>
#include <string>

#if defined(__GLIBC__)
#include <malloc.h>
#endif

#include "common.h"

namespace maskbox {

Napi::Value JsTuneMalloc(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const Args args(info, "tuneMalloc");
  // glibc refuses an mmap threshold above HEAP_MAX_SIZE / 2 (32 MiB on 64-bit); both fit in an int.
  const int64_t mmap_threshold = args.Integer("mmapThreshold", 0, int64_t{32} << 20);
  const int64_t trim_threshold = args.Integer("trimThreshold", 0, int64_t{1} << 30);
  Napi::Object r = Napi::Object::New(env);
#if defined(__GLIBC__)
  const bool ok = mallopt(M_MMAP_THRESHOLD, static_cast<int>(mmap_threshold)) == 1 &&
                  mallopt(M_TRIM_THRESHOLD, static_cast<int>(trim_threshold)) == 1;
  r.Set("applied", ok);
  r.Set("reason", ok ? "glibc mallopt" : "glibc refused mallopt");
#else
  (void)mmap_threshold;
  (void)trim_threshold;
  r.Set("applied", false);
  r.Set("reason", "not glibc: the allocator is left as it is");
#endif
  return r;
}

}  // namespace maskbox
