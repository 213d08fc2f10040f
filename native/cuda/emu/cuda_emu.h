// A small CPU emulation of CUDA's execution model, so that native/cuda/*.cu compile with g++ and run
// in CI without a GPU (design: ../shared/CUDA-TESTING.md). Included only through cuda_compat.h.
//
// Two flavours of "CUDA thread":
//   default            blocks run on worker threads; a block's threads are fibers (ucontext) that switch
//                      only at __syncthreads and warp intrinsics. Schedule: MBEMU_SCHEDULE=forward
//                      (default) | reverse | random:<seed>, or mbemu::SetSchedule().
//   MBEMU_OS_THREADS   every CUDA thread is an OS thread (for ThreadSanitizer); blocks run one at a time.
//
// Checks (abort with kernel, block, thread and source line): divergent __syncthreads, a barrier reached
// after some threads returned, a warp intrinsic whose mask leaves out the caller, names a returned lane
// or lanes waiting elsewhere, a shuffle reading a lane outside the mask, a deadlock, a host pointer
// passed to a kernel, a cudaMemcpy/cudaMemset out of bounds or in the wrong direction, writes past
// either end of a cudaMalloc buffer (canaries checked at every copy and free). Launch errors (empty
// grid, block > 1024 threads, grid.y/z > 65535, dynamic shared memory > 48 KiB) come back from
// cudaGetLastError(). cudaMalloc memory and dynamic shared memory are filled with garbage.
//
// Limits: sequentially consistent inside a block; static __shared__ arrays keep the previous block's
// values (per worker thread); no timing, streams are synchronous, no weak-memory effects.
#pragma once

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <mutex>
#include <source_location>
#include <string>
#include <thread>
#include <tuple>
#include <type_traits>
#include <vector>

#ifndef MBEMU_OS_THREADS
#include <sys/mman.h>
#include <ucontext.h>
#endif

#if defined(__SANITIZE_ADDRESS__)
#define MBEMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MBEMU_ASAN 1
#endif
#endif
#ifdef MBEMU_ASAN
#include <sanitizer/common_interface_defs.h>
#endif

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __launch_bounds__(...)
#ifdef MBEMU_OS_THREADS
#define __shared__ static
#else
#define __shared__ static thread_local
#endif

#define MBEMU_EMULATED 1

struct dim3 {
  unsigned x, y, z;
  constexpr dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
  unsigned x, y, z;
};

enum cudaError_t {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInvalidResourceHandle = 400,
};
enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4,
};
typedef struct MbemuStream* cudaStream_t;
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  int major, minor, multiProcessorCount;
};

namespace mbemu {

[[noreturn]] inline void Die(const std::string& msg) {
  std::fprintf(stderr, "mbemu: %s\n", msg.c_str());
  std::fflush(stderr);
  std::abort();
}

inline std::string Where(const std::source_location& l) {
  const char* f = l.file_name();
  const char* s = std::strrchr(f, '/');
  return std::string(s ? s + 1 : f) + ":" + std::to_string(l.line());
}

// ---------------------------------------------------------------- device memory registry
constexpr size_t kRedzone = 64;
constexpr unsigned char kCanary = 0xCB;

struct Memory {
  std::mutex mu;
  std::map<uintptr_t, size_t> allocs;  // user base -> user size
  uint64_t seed = 0x9E3779B97F4A7C15ull;
  static Memory& Get() {
    static Memory m;
    return m;
  }
  // [p, p+n) inside one allocation? returns its base, or 0.
  uintptr_t Find(const void* p, size_t n) {
    std::lock_guard<std::mutex> g(mu);
    const uintptr_t a = reinterpret_cast<uintptr_t>(p);
    auto it = allocs.upper_bound(a);
    if (it == allocs.begin()) return 0;
    --it;
    if (a < it->first || a - it->first > it->second || n > it->second - (a - it->first)) return 0;
    return it->first;
  }
  bool IsDevice(const void* p) { return Find(p, 0) != 0; }
  void CheckCanaries(uintptr_t base, size_t size, const char* when) {
    const unsigned char* lo = reinterpret_cast<const unsigned char*>(base) - kRedzone;
    const unsigned char* hi = reinterpret_cast<const unsigned char*>(base) + size;
    for (size_t i = 0; i < kRedzone; i++) {
      if (lo[i] != kCanary) Die("write before the start of a cudaMalloc buffer of " + std::to_string(size) + " bytes (found " + when + ")");
      if (hi[i] != kCanary) Die("write past the end of a cudaMalloc buffer of " + std::to_string(size) + " bytes (found " + when + ")");
    }
  }
  void CheckAll(const char* when) {
    std::lock_guard<std::mutex> g(mu);
    for (auto& [b, s] : allocs) CheckCanaries(b, s, when);
  }
};

inline void FillGarbage(void* p, size_t n) {
  static std::atomic<uint64_t> counter{0x2545F4914F6CDD1Dull};
  uint64_t x = counter.fetch_add(0x9E3779B97F4A7C15ull) | 1;
  unsigned char* c = static_cast<unsigned char*>(p);
  for (size_t i = 0; i < n; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    c[i] = static_cast<unsigned char>(x >> 32);
  }
}

// ---------------------------------------------------------------- execution state
inline thread_local cudaError_t last_error = cudaSuccess;

enum class Sched { Forward, Reverse, Random };
struct ScheduleConfig {
  Sched kind = Sched::Forward;
  uint64_t seed = 1;
  bool from_env = false;
};
inline ScheduleConfig& Schedule() {
  static ScheduleConfig c = [] {
    ScheduleConfig s;
    const char* e = std::getenv("MBEMU_SCHEDULE");
    if (e && std::strcmp(e, "reverse") == 0) s.kind = Sched::Reverse;
    if (e && std::strncmp(e, "random", 6) == 0) {
      s.kind = Sched::Random;
      if (e[6] == ':') s.seed = std::strtoull(e + 7, nullptr, 10);
    }
    return s;
  }();
  return c;
}
/** Set the fiber schedule for later launches (tests). */
inline void SetSchedule(Sched kind, uint64_t seed = 1) {
  Schedule().kind = kind;
  Schedule().seed = seed;
}

struct Launch;
struct Block;

enum class St { Ready, Running, Barrier, Warp, Done };
enum class WOp { Sync, Shfl, ShflUp, ShflDown, ShflXor, Ballot, Any, All, MatchAny };

struct Thr {
  uint3 tid{};
  unsigned linear = 0;
  Block* blk = nullptr;
  St st = St::Ready;
  const std::source_location* site = nullptr;
  // warp rendezvous payload
  WOp op = WOp::Sync;
  unsigned mask = 0;
  uint64_t val = 0;
  int arg = 0, width = 32;
  uint64_t result = 0;
  bool ready_result = false;
#ifndef MBEMU_OS_THREADS
  ucontext_t ctx;
  void* stack = nullptr;
  void* asan_fake = nullptr;
#endif
};

struct Launch {
  const char* name;
  std::source_location loc;
  dim3 grid, block;
  size_t smem;
  std::function<void()> body;
};

struct Block {
  Launch* L = nullptr;
  uint3 idx{};
  std::vector<Thr> t;
  std::vector<unsigned char> dyn;  // dynamic shared memory
  unsigned nthreads = 0, done = 0, at_barrier = 0;
#ifdef MBEMU_OS_THREADS
  std::mutex mu;
  std::condition_variable cv;
  uint64_t barrier_gen = 0;
#else
  ucontext_t sched;
  std::vector<unsigned> ready;
  uint64_t rng = 1;
  const void* sched_stack_bottom = nullptr;
  size_t sched_stack_size = 0;
#endif
};

inline thread_local Thr* cur = nullptr;

inline Thr& Cur() {
  if (!cur) Die("a device function or CUDA built-in was used outside a kernel launch");
  return *cur;
}

inline std::string Who(const Thr& t, const std::source_location& l) {
  const Block& b = *t.blk;
  return std::string("kernel ") + b.L->name + " block (" + std::to_string(b.idx.x) + "," + std::to_string(b.idx.y) + "," +
         std::to_string(b.idx.z) + ") thread (" + std::to_string(t.tid.x) + "," + std::to_string(t.tid.y) + "," +
         std::to_string(t.tid.z) + ") at " + Where(l);
}

inline bool SameSite(const std::source_location* a, const std::source_location* b) {
  return a && b && a->line() == b->line() && a->column() == b->column() && std::strcmp(a->file_name(), b->file_name()) == 0;
}

// Lane w of the warp holding thread t (nullptr past the block's end).
inline Thr* Lane(Thr& t, unsigned lane) {
  const unsigned i = (t.linear & ~31u) + lane;
  return i < t.blk->nthreads ? &t.blk->t[i] : nullptr;
}

// Every lane in `mask` (of t's warp) has arrived at the same warp op: compute the results.
inline void ResolveWarp(Thr& t) {
  const unsigned mask = t.mask;
  Thr* lanes[32] = {};
  for (unsigned l = 0; l < 32; l++)
    if (mask >> l & 1u) lanes[l] = Lane(t, l);
  uint64_t ballot = 0;
  for (unsigned l = 0; l < 32; l++)
    if (lanes[l] && lanes[l]->val) ballot |= 1ull << l;
  for (unsigned l = 0; l < 32; l++) {
    Thr* me = lanes[l];
    if (!me) continue;
    const int w = me->width;
    int src = static_cast<int>(l);
    switch (me->op) {
      case WOp::Sync: break;
      case WOp::Shfl: src = (static_cast<int>(l) & ~(w - 1)) + (me->arg & (w - 1)); break;
      case WOp::ShflUp:
        if ((static_cast<int>(l) & (w - 1)) >= me->arg) src = static_cast<int>(l) - me->arg;
        break;
      case WOp::ShflDown:
        if ((static_cast<int>(l) & (w - 1)) + me->arg < w) src = static_cast<int>(l) + me->arg;
        break;
      case WOp::ShflXor: {
        const int s = static_cast<int>(l) ^ me->arg;
        if (s >= 0 && s < 32 && (s & ~(w - 1)) == (static_cast<int>(l) & ~(w - 1))) src = s;
        break;
      }
      default: break;
    }
    switch (me->op) {
      case WOp::Sync: me->result = 0; break;
      case WOp::Shfl:
      case WOp::ShflUp:
      case WOp::ShflDown:
      case WOp::ShflXor:
        if (src < 0 || src >= 32 || !lanes[src])
          Die("warp shuffle reads lane " + std::to_string(src) + ", which is not in the mask: " + Who(*me, *me->site));
        me->result = lanes[src]->val;
        break;
      case WOp::Ballot: me->result = ballot; break;
      case WOp::Any: me->result = ballot != 0; break;
      case WOp::All: {
        uint64_t in = 0;
        for (unsigned k = 0; k < 32; k++)
          if (lanes[k]) in |= 1ull << k;
        me->result = ballot == in;
        break;
      }
      case WOp::MatchAny: {
        uint64_t m = 0;
        for (unsigned k = 0; k < 32; k++)
          if (lanes[k] && lanes[k]->val == me->val) m |= 1ull << k;
        me->result = m;
        break;
      }
    }
    me->ready_result = true;
  }
}

// Checks the lanes of `mask` against t: Die on a returned lane, one at a barrier, or one waiting at a
// different warp op; true when every lane has arrived (so the op can resolve).
inline bool WarpComplete(Thr& t) {
  if (!(t.mask >> (t.linear & 31u) & 1u)) Die("warp intrinsic called by a lane that is not in its own mask: " + Who(t, *t.site));
  bool all = true;
  for (unsigned l = 0; l < 32; l++) {
    if (!(t.mask >> l & 1u)) continue;
    Thr* o = Lane(t, l);
    if (!o) Die("warp intrinsic mask names lane " + std::to_string(l) + " past the end of the block: " + Who(t, *t.site));
    if (o == &t) continue;
    if (o->st == St::Done) Die("warp intrinsic mask names lane " + std::to_string(l) + ", which has returned: " + Who(t, *t.site));
    if (o->st == St::Barrier) Die("warp intrinsic mask names lane " + std::to_string(l) + ", which waits at __syncthreads (" + Where(*o->site) + "): " + Who(t, *t.site));
    if (o->st == St::Warp) {
      if (!SameSite(o->site, t.site) || o->mask != t.mask || o->op != t.op)
        Die("lanes disagree: lane " + std::to_string(l) + " waits at a warp intrinsic at " + Where(*o->site) + " with mask " +
            std::to_string(o->mask) + ", " + Who(t, *t.site) + " with mask " + std::to_string(t.mask));
    } else {
      all = false;
    }
  }
  return all;
}

// Every thread not returned is at a barrier: check they agree (same __syncthreads, none returned).
inline void CheckBarrier(Block& b) {
  const Thr* first = nullptr;
  for (Thr& t : b.t) {
    if (t.st == St::Done) continue;
    if (!first) {
      first = &t;
    } else if (!SameSite(first->site, t.site)) {
      Die("divergent __syncthreads: thread " + std::to_string(first->linear) + " waits at " + Where(*first->site) + ", " + Who(t, *t.site));
    }
  }
  if (b.done > 0) {
    unsigned gone = 0;
    for (Thr& t : b.t)
      if (t.st == St::Done) {
        gone = t.linear;
        break;
      }
    Die("__syncthreads reached after thread " + std::to_string(gone) + " of the block returned: " + Who(*const_cast<Thr*>(first), *first->site));
  }
}

#ifndef MBEMU_OS_THREADS
// ---------------------------------------------------------------- fiber flavour
#ifdef MBEMU_ASAN
constexpr size_t kStack = 512 * 1024;
#else
constexpr size_t kStack = 128 * 1024;
#endif

struct StackPool {
  std::vector<void*> stacks;
  ~StackPool() {
    for (void* s : stacks) munmap(s, kStack);
  }
  void* At(size_t i) {
    while (stacks.size() <= i) {
      void* p = mmap(nullptr, kStack, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p == MAP_FAILED) Die("mmap of a fiber stack failed");
      stacks.push_back(p);
    }
    return stacks[i];
  }
};
inline thread_local StackPool stack_pool;

inline void SwitchToSched(Thr& t) {
#ifdef MBEMU_ASAN
  __sanitizer_start_switch_fiber(t.st == St::Done ? nullptr : &t.asan_fake, t.blk->sched_stack_bottom, t.blk->sched_stack_size);
#endif
  swapcontext(&t.ctx, &t.blk->sched);
#ifdef MBEMU_ASAN
  __sanitizer_finish_switch_fiber(t.asan_fake, nullptr, nullptr);
#endif
}

inline void FiberEntry() {
  Thr& t = *cur;
#ifdef MBEMU_ASAN
  __sanitizer_finish_switch_fiber(nullptr, &t.blk->sched_stack_bottom, &t.blk->sched_stack_size);
#endif
  t.blk->L->body();
  t.st = St::Done;
  t.blk->done++;
  SwitchToSched(t);
  Die("a returned fiber was resumed");
}

inline void PushReady(Block& b, std::vector<unsigned>& ids) {
  // b.ready is popped from the back: push so that the next pops follow the schedule.
  if (Schedule().kind == Sched::Forward) std::reverse(ids.begin(), ids.end());
  for (unsigned i : ids) b.ready.push_back(i);
}

inline void BarrierArrive(Thr& t, const std::source_location& loc) {
  t.site = &loc;
  t.st = St::Barrier;
  t.blk->at_barrier++;
  SwitchToSched(t);
}

inline uint64_t WarpArrive(Thr& t, const std::source_location& loc) {
  t.site = &loc;
  t.st = St::Warp;
  t.ready_result = false;
  SwitchToSched(t);
  return t.result;
}

// After a fiber yields: release barriers / warp groups that are now complete.
inline void AfterYield(Block& b, Thr& t) {
  if (t.st == St::Done) {
    for (unsigned l = 0; l < 32; l++) {  // a lane waiting on this one would wait forever
      Thr* o = Lane(t, l);
      if (o && o->st == St::Warp && (o->mask >> (t.linear & 31u) & 1u))
        Die("warp intrinsic mask names lane " + std::to_string(t.linear & 31u) + ", which has returned: " + Who(*o, *o->site));
    }
  }
  if (t.st == St::Warp) {
    if (WarpComplete(t)) {
      ResolveWarp(t);
      std::vector<unsigned> ids;
      for (unsigned l = 0; l < 32; l++)
        if (t.mask >> l & 1u) {
          Thr* o = Lane(t, l);
          o->st = St::Ready;
          ids.push_back(o->linear);
        }
      PushReady(b, ids);
    }
  }
  if (b.at_barrier > 0 && b.at_barrier + b.done == b.nthreads) {
    CheckBarrier(b);
    std::vector<unsigned> ids;
    for (Thr& x : b.t) {
      x.st = St::Ready;
      ids.push_back(x.linear);
    }
    b.at_barrier = 0;
    PushReady(b, ids);
  }
}

// Out of line: getcontext returns twice, which would make RunBlock's locals "clobbered" (-Wclobbered).
[[gnu::noinline]] inline void InitFiber(Thr& t, void* stack) {
  getcontext(&t.ctx);
  t.stack = stack;
  t.ctx.uc_stack.ss_sp = stack;
  t.ctx.uc_stack.ss_size = kStack;
  t.ctx.uc_link = nullptr;
  makecontext(&t.ctx, FiberEntry, 0);
}

inline void RunBlock(Block& b) {
  for (unsigned i = 0; i < b.nthreads; i++) InitFiber(b.t[i], stack_pool.At(i));
  b.ready.clear();
  std::vector<unsigned> ids(b.nthreads);
  for (unsigned i = 0; i < b.nthreads; i++) ids[i] = i;
  PushReady(b, ids);
  b.rng = Schedule().seed * 0x9E3779B97F4A7C15ull + (uint64_t(b.idx.x) << 32) + b.idx.y * 65537u + b.idx.z + 1;
  while (b.done < b.nthreads) {
    if (b.ready.empty()) {
      std::string who;
      for (Thr& x : b.t)
        if (x.st != St::Done) who += " thread " + std::to_string(x.linear) + (x.st == St::Barrier ? " at __syncthreads " : " at a warp intrinsic ") + Where(*x.site) + ";";
      Die(std::string("deadlock in kernel ") + b.L->name + ":" + who.substr(0, 2000));
    }
    size_t pick = b.ready.size() - 1;
    if (Schedule().kind == Sched::Random) {
      b.rng ^= b.rng << 13;
      b.rng ^= b.rng >> 7;
      b.rng ^= b.rng << 17;
      pick = static_cast<size_t>(b.rng % b.ready.size());
      std::swap(b.ready[pick], b.ready.back());
      pick = b.ready.size() - 1;
    }
    Thr& t = b.t[b.ready[pick]];
    b.ready.pop_back();
    t.st = St::Running;
    cur = &t;
#ifdef MBEMU_ASAN
    void* fake = nullptr;
    __sanitizer_start_switch_fiber(&fake, t.stack, kStack);
#endif
    swapcontext(&b.sched, &t.ctx);
#ifdef MBEMU_ASAN
    __sanitizer_finish_switch_fiber(fake, nullptr, nullptr);
#endif
    cur = nullptr;
    AfterYield(b, t);
  }
}

#else
// ---------------------------------------------------------------- OS-thread flavour (TSan)
inline void BarrierArrive(Thr& t, const std::source_location& loc) {
  Block& b = *t.blk;
  std::unique_lock<std::mutex> g(b.mu);
  t.site = &loc;
  t.st = St::Barrier;
  b.at_barrier++;
  const uint64_t gen = b.barrier_gen;
  if (b.at_barrier + b.done == b.nthreads) {
    CheckBarrier(b);
    b.at_barrier = 0;
    for (Thr& x : b.t)
      if (x.st == St::Barrier) x.st = St::Running;
    b.barrier_gen++;
    b.cv.notify_all();
    return;
  }
  if (!b.cv.wait_for(g, std::chrono::seconds(60), [&] { return b.barrier_gen != gen; }))
    Die("deadlock (60 s) at __syncthreads: " + Who(t, loc));
}

inline uint64_t WarpArrive(Thr& t, const std::source_location& loc) {
  Block& b = *t.blk;
  std::unique_lock<std::mutex> g(b.mu);
  t.site = &loc;
  t.st = St::Warp;
  t.ready_result = false;
  if (WarpComplete(t)) {
    ResolveWarp(t);
    for (unsigned l = 0; l < 32; l++)
      if (t.mask >> l & 1u) Lane(t, l)->st = St::Running;
    b.cv.notify_all();
  } else if (!b.cv.wait_for(g, std::chrono::seconds(60), [&] { return t.ready_result; })) {
    Die("deadlock (60 s) at a warp intrinsic: " + Who(t, loc));
  }
  t.ready_result = false;
  return t.result;
}

// OS threads reused across blocks and launches: starting 256-1024 threads for every block was most of
// the TSan flavour's time. Run(n, job) runs job(i) on pool thread i for i < n and returns when all are
// done; the mutex hand-offs order one block's threads before the next block's, as join did.
class OsThreadPool {
 public:
  static OsThreadPool& Get() {
    static OsThreadPool pool;
    return pool;
  }
  void Run(unsigned n, const std::function<void(unsigned)>& job) {
    std::unique_lock<std::mutex> g(mu_);
    while (threads_.size() < n) {
      const unsigned id = static_cast<unsigned>(threads_.size());
      threads_.emplace_back([this, id] { Loop(id); });
    }
    job_ = &job;
    n_ = n;
    pending_ = n;
    gen_++;
    cv_.notify_all();
    done_.wait(g, [&] { return pending_ == 0; });
    job_ = nullptr;
  }
  ~OsThreadPool() {
    {
      std::lock_guard<std::mutex> g(mu_);
      stop_ = true;
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }

 private:
  void Loop(unsigned id) {
    uint64_t seen = 0;
    std::unique_lock<std::mutex> g(mu_);
    for (;;) {
      cv_.wait(g, [&] { return stop_ || (gen_ != seen && id < n_); });
      if (stop_) return;
      seen = gen_;
      const std::function<void(unsigned)>* job = job_;
      g.unlock();
      (*job)(id);
      g.lock();
      if (--pending_ == 0) done_.notify_all();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_, done_;
  std::vector<std::thread> threads_;
  const std::function<void(unsigned)>* job_ = nullptr;
  unsigned n_ = 0, pending_ = 0;
  uint64_t gen_ = 0;
  bool stop_ = false;
};

inline void RunBlock(Block& b) {
  OsThreadPool::Get().Run(b.nthreads, [&b](unsigned i) {
    {
      Thr& t = b.t[i];
      cur = &t;
      b.L->body();
      std::lock_guard<std::mutex> g(b.mu);
      t.st = St::Done;
      b.done++;
      if (b.at_barrier > 0 && b.at_barrier + b.done == b.nthreads) CheckBarrier(b);  // dies
      for (unsigned l = 0; l < 32; l++) {  // a lane waiting on this one now waits forever
        Thr* o = Lane(t, l);
        if (o && o->st == St::Warp && (o->mask >> (t.linear & 31u) & 1u))
          Die("warp intrinsic mask names a lane that has returned: " + Who(*o, *o->site));
      }
      cur = nullptr;
    }
  });
}
#endif

inline unsigned Workers() {
  static unsigned w = [] {
    const char* e = std::getenv("MBEMU_WORKERS");
    unsigned n = e ? static_cast<unsigned>(std::atoi(e)) : std::thread::hardware_concurrency();
    return n ? n : 1u;
  }();
  return w;
}

inline void RunLaunch(Launch& L) {
  const uint64_t nblocks = uint64_t(L.grid.x) * L.grid.y * L.grid.z;
  const unsigned nthreads = L.block.x * L.block.y * L.block.z;
  std::atomic<uint64_t> next{0};
  auto worker = [&] {
    Block b;
    b.L = &L;
    b.nthreads = nthreads;
    b.t.resize(nthreads);
    for (;;) {
      const uint64_t k = next.fetch_add(1);
      if (k >= nblocks) break;
      b.idx = {static_cast<unsigned>(k % L.grid.x), static_cast<unsigned>(k / L.grid.x % L.grid.y),
               static_cast<unsigned>(k / (uint64_t(L.grid.x) * L.grid.y))};
      b.done = b.at_barrier = 0;
      if (L.smem) {
        b.dyn.resize(L.smem);
        FillGarbage(b.dyn.data(), L.smem);
      }
      for (unsigned i = 0; i < nthreads; i++) {
        Thr& t = b.t[i];
        t = Thr{};
        t.tid = {i % L.block.x, i / L.block.x % L.block.y, i / (L.block.x * L.block.y)};
        t.linear = i;
        t.blk = &b;
      }
      RunBlock(b);
    }
  };
#ifdef MBEMU_OS_THREADS
  worker();  // one block at a time
#else
  const unsigned w = static_cast<unsigned>(std::min<uint64_t>(nblocks, Workers()));
  if (w <= 1) {
    worker();
  } else {
    std::vector<std::thread> th;
    for (unsigned i = 0; i < w; i++) th.emplace_back(worker);
    for (auto& x : th) x.join();
  }
#endif
}

template <typename A>
inline void CheckArg(const A& a, const char* kernel, int i, const std::source_location& loc) {
  if constexpr (std::is_pointer_v<A>) {
    if (a != nullptr && !Memory::Get().IsDevice(a))
      Die(std::string("host pointer passed as argument ") + std::to_string(i) + " of kernel " + kernel + " at " + Where(loc));
  }
}

template <typename F, typename... Args>
inline void LaunchKernel(const char* name, dim3 grid, dim3 block, size_t smem, cudaStream_t, const std::source_location& loc, F f,
                         Args... args) {
  const uint64_t threads = uint64_t(block.x) * block.y * block.z;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || block.x == 0 || block.y == 0 || block.z == 0 || threads > 1024 ||
      block.z > 64 || grid.y > 65535 || grid.z > 65535 || grid.x > 2147483647u) {
    last_error = cudaErrorInvalidConfiguration;
    return;
  }
  if (smem > 48 * 1024) {
    last_error = cudaErrorInvalidValue;
    return;
  }
  int i = 0;
  (CheckArg(args, name, i++, loc), ...);
  Launch L{name, loc, grid, block, smem, {}};
  std::tuple<Args...> tup(args...);
  L.body = [&] { std::apply(f, tup); };
  RunLaunch(L);
  Memory::Get().CheckAll((std::string("after kernel ") + name).c_str());
}

template <typename T>
inline uint64_t Bits(T v) {
  static_assert(sizeof(T) <= 8 && std::is_trivially_copyable_v<T>, "warp intrinsics take values of at most 8 bytes");
  uint64_t u = 0;
  std::memcpy(&u, &v, sizeof v);
  return u;
}
template <typename T>
inline T FromBits(uint64_t u) {
  T v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}

inline uint64_t WarpOp(WOp op, unsigned mask, uint64_t val, int arg, int width, const std::source_location& loc) {
  Thr& t = Cur();
  if (width <= 0 || width > 32 || (width & (width - 1))) Die("warp shuffle width must be a power of 2 up to 32: " + Who(t, loc));
  t.op = op;
  t.mask = mask;
  t.val = val;
  t.arg = arg;
  t.width = width;
  const uint64_t r = WarpArrive(t, loc);
  t.site = nullptr;
  return r;
}

}  // namespace mbemu

// ---------------------------------------------------------------- built-ins
#define threadIdx (::mbemu::Cur().tid)
#define blockIdx (::mbemu::Cur().blk->idx)
#define blockDim (::mbemu::Cur().blk->L->block)
#define gridDim (::mbemu::Cur().blk->L->grid)
constexpr int warpSize = 32;

inline void __syncthreads(const std::source_location loc = std::source_location::current()) {
  mbemu::Thr& t = mbemu::Cur();
  mbemu::BarrierArrive(t, loc);  // `loc` lives on this thread's stack until the barrier releases it
  t.site = nullptr;
}

inline void __syncwarp(unsigned mask = 0xffffffffu, const std::source_location loc = std::source_location::current()) {
  mbemu::WarpOp(mbemu::WOp::Sync, mask, 0, 0, 32, loc);
}
template <typename T>
inline T __shfl_sync(unsigned mask, T v, int src, int width = 32, const std::source_location loc = std::source_location::current()) {
  return mbemu::FromBits<T>(mbemu::WarpOp(mbemu::WOp::Shfl, mask, mbemu::Bits(v), src, width, loc));
}
template <typename T>
inline T __shfl_up_sync(unsigned mask, T v, unsigned delta, int width = 32, const std::source_location loc = std::source_location::current()) {
  return mbemu::FromBits<T>(mbemu::WarpOp(mbemu::WOp::ShflUp, mask, mbemu::Bits(v), static_cast<int>(delta), width, loc));
}
template <typename T>
inline T __shfl_down_sync(unsigned mask, T v, unsigned delta, int width = 32, const std::source_location loc = std::source_location::current()) {
  return mbemu::FromBits<T>(mbemu::WarpOp(mbemu::WOp::ShflDown, mask, mbemu::Bits(v), static_cast<int>(delta), width, loc));
}
template <typename T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32, const std::source_location loc = std::source_location::current()) {
  return mbemu::FromBits<T>(mbemu::WarpOp(mbemu::WOp::ShflXor, mask, mbemu::Bits(v), lane_mask, width, loc));
}
inline unsigned __ballot_sync(unsigned mask, int pred, const std::source_location loc = std::source_location::current()) {
  return static_cast<unsigned>(mbemu::WarpOp(mbemu::WOp::Ballot, mask, pred != 0, 0, 32, loc));
}
inline int __any_sync(unsigned mask, int pred, const std::source_location loc = std::source_location::current()) {
  return static_cast<int>(mbemu::WarpOp(mbemu::WOp::Any, mask, pred != 0, 0, 32, loc));
}
inline int __all_sync(unsigned mask, int pred, const std::source_location loc = std::source_location::current()) {
  return static_cast<int>(mbemu::WarpOp(mbemu::WOp::All, mask, pred != 0, 0, 32, loc));
}
template <typename T>
inline unsigned __match_any_sync(unsigned mask, T v, const std::source_location loc = std::source_location::current()) {
  return static_cast<unsigned>(mbemu::WarpOp(mbemu::WOp::MatchAny, mask, mbemu::Bits(v), 0, 32, loc));
}
/** Approximate: the lanes of the warp that have not returned. */
inline unsigned __activemask() {
  mbemu::Thr& t = mbemu::Cur();
  unsigned m = 0;
  for (unsigned l = 0; l < 32; l++) {
    mbemu::Thr* o = mbemu::Lane(t, l);
    if (o && o->st != mbemu::St::Done) m |= 1u << l;
  }
  return m;
}

inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline int __clz(int x) { return x ? __builtin_clz(static_cast<unsigned>(x)) : 32; }
inline int __clzll(long long x) { return x ? __builtin_clzll(static_cast<unsigned long long>(x)) : 64; }
inline unsigned __float_as_uint(float f) { return mbemu::FromBits<unsigned>(mbemu::Bits(f)); }
inline float __uint_as_float(unsigned u) { return mbemu::FromBits<float>(mbemu::Bits(u)); }
inline int __float_as_int(float f) { return mbemu::FromBits<int>(mbemu::Bits(f)); }
inline float __int_as_float(int u) { return mbemu::FromBits<float>(mbemu::Bits(u)); }
inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// Cache-hinted loads/stores (CUDA's __ldcv: fetch again, never a cached copy; __stcg: store to L2), for
// data other threads change while a kernel runs (the union-find of dbscan.cu): relaxed atomics here,
// so that concurrent use is not a data race for the emulator's worker threads or ThreadSanitizer.
template <typename T>
inline T __ldcv(const T* p) { return __atomic_load_n(p, __ATOMIC_RELAXED); }
template <typename T>
inline void __stcg(T* p, T v) { __atomic_store_n(p, v, __ATOMIC_RELAXED); }

// Atomics: real atomics (blocks run on several OS threads).
template <typename T>
inline T atomicAdd(T* p, T v) {
  if constexpr (std::is_floating_point_v<T>) {
    T old, next;
    __atomic_load(p, &old, __ATOMIC_SEQ_CST);
    do {
      next = old + v;
    } while (!__atomic_compare_exchange(p, &old, &next, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));
    return old;
  } else {
    return __atomic_fetch_add(p, v, __ATOMIC_SEQ_CST);
  }
}
template <typename T>
inline T atomicSub(T* p, T v) { return __atomic_fetch_sub(p, v, __ATOMIC_SEQ_CST); }
template <typename T>
inline T atomicOr(T* p, T v) { return __atomic_fetch_or(p, v, __ATOMIC_SEQ_CST); }
template <typename T>
inline T atomicAnd(T* p, T v) { return __atomic_fetch_and(p, v, __ATOMIC_SEQ_CST); }
template <typename T>
inline T atomicExch(T* p, T v) { return __atomic_exchange_n(p, v, __ATOMIC_SEQ_CST); }
template <typename T>
inline T atomicCAS(T* p, T expected, T desired) {
  __atomic_compare_exchange_n(p, &expected, desired, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST);
  return expected;
}
template <typename T>
inline T atomicMin(T* p, T v) {
  T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  while (v < old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
  return old;
}
template <typename T>
inline T atomicMax(T* p, T v) {
  T old = __atomic_load_n(p, __ATOMIC_SEQ_CST);
  while (v > old && !__atomic_compare_exchange_n(p, &old, v, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST)) {
  }
  return old;
}

// ---------------------------------------------------------------- runtime API
inline cudaError_t cudaGetLastError() {
  cudaError_t e = mbemu::last_error;
  mbemu::last_error = cudaSuccess;
  return e;
}
inline cudaError_t cudaPeekAtLastError() { return mbemu::last_error; }
inline const char* cudaGetErrorString(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    default: return "unknown error";
  }
}
inline const char* cudaGetErrorName(cudaError_t e) {
  switch (e) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    default: return "cudaErrorUnknown";
  }
}
inline cudaError_t cudaGetDeviceCount(int* n) {
  *n = 1;
  return cudaSuccess;
}
inline cudaError_t cudaSetDevice(int) { return cudaSuccess; }
inline cudaError_t cudaGetDevice(int* d) {
  *d = 0;
  return cudaSuccess;
}
inline cudaError_t cudaGetDeviceProperties(cudaDeviceProp* p, int) {
  std::memset(p, 0, sizeof *p);
  std::snprintf(p->name, sizeof p->name, "maskbox CUDA emulator (%s)",
#ifdef MBEMU_OS_THREADS
                "OS threads"
#else
                "CPU fibers"
#endif
  );
  p->totalGlobalMem = size_t{1} << 34;
  p->major = 9;
  p->multiProcessorCount = static_cast<int>(mbemu::Workers());
  return cudaSuccess;
}
inline cudaError_t cudaDeviceSynchronize() { return cudaSuccess; }

inline cudaError_t cudaMalloc(void** p, size_t n) {
  unsigned char* raw = static_cast<unsigned char*>(std::malloc(n + 2 * mbemu::kRedzone));
  if (!raw) {
    *p = nullptr;
    return cudaErrorMemoryAllocation;
  }
  std::memset(raw, mbemu::kCanary, mbemu::kRedzone);
  std::memset(raw + mbemu::kRedzone + n, mbemu::kCanary, mbemu::kRedzone);
  mbemu::FillGarbage(raw + mbemu::kRedzone, n);
  *p = raw + mbemu::kRedzone;
  auto& m = mbemu::Memory::Get();
  std::lock_guard<std::mutex> g(m.mu);
  m.allocs[reinterpret_cast<uintptr_t>(*p)] = n;
  return cudaSuccess;
}
template <typename T>
inline cudaError_t cudaMalloc(T** p, size_t n) {
  return cudaMalloc(reinterpret_cast<void**>(p), n);
}
inline cudaError_t cudaFree(void* p) {
  if (!p) return cudaSuccess;
  auto& m = mbemu::Memory::Get();
  size_t size;
  {
    std::lock_guard<std::mutex> g(m.mu);
    auto it = m.allocs.find(reinterpret_cast<uintptr_t>(p));
    if (it == m.allocs.end()) mbemu::Die("cudaFree of a pointer that cudaMalloc did not return");
    size = it->second;
    m.allocs.erase(it);
  }
  m.CheckCanaries(reinterpret_cast<uintptr_t>(p), size, "at cudaFree");
  std::free(static_cast<unsigned char*>(p) - mbemu::kRedzone);
  return cudaSuccess;
}
inline cudaError_t cudaMallocHost(void** p, size_t n) {
  *p = std::malloc(n ? n : 1);
  return *p ? cudaSuccess : cudaErrorMemoryAllocation;
}
template <typename T>
inline cudaError_t cudaMallocHost(T** p, size_t n) {
  return cudaMallocHost(reinterpret_cast<void**>(p), n);
}
inline cudaError_t cudaFreeHost(void* p) {
  std::free(p);
  return cudaSuccess;
}

inline cudaError_t cudaMemcpy(void* dst, const void* src, size_t n, cudaMemcpyKind kind,
                              const std::source_location loc = std::source_location::current()) {
  auto& m = mbemu::Memory::Get();
  if (n == 0) return cudaSuccess;
  const bool dd = m.IsDevice(dst), sd = m.IsDevice(src);
  const char* names[] = {"HostToHost", "HostToDevice", "DeviceToHost", "DeviceToDevice", "Default"};
  const bool want_dd = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
  const bool want_sd = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
  if (kind != cudaMemcpyDefault && (dd != want_dd || sd != want_sd))
    mbemu::Die(std::string("cudaMemcpy") + names[kind] + " in the wrong direction (destination is " + (dd ? "device" : "host") +
               " memory, source is " + (sd ? "device" : "host") + ") at " + mbemu::Where(loc));
  if (dd && !m.Find(dst, n)) mbemu::Die("cudaMemcpy of " + std::to_string(n) + " bytes writes past the end of the destination buffer at " + mbemu::Where(loc));
  if (sd && !m.Find(src, n)) mbemu::Die("cudaMemcpy of " + std::to_string(n) + " bytes reads past the end of the source buffer at " + mbemu::Where(loc));
  std::memmove(dst, src, n);
  m.CheckAll("at cudaMemcpy");
  return cudaSuccess;
}
inline cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t n, cudaMemcpyKind kind, cudaStream_t = nullptr,
                                   const std::source_location loc = std::source_location::current()) {
  return cudaMemcpy(dst, src, n, kind, loc);
}
inline cudaError_t cudaMemset(void* dst, int v, size_t n, const std::source_location loc = std::source_location::current()) {
  if (n == 0) return cudaSuccess;
  if (!mbemu::Memory::Get().Find(dst, n)) mbemu::Die("cudaMemset of " + std::to_string(n) + " bytes outside a cudaMalloc buffer at " + mbemu::Where(loc));
  std::memset(dst, v, n);
  return cudaSuccess;
}
inline cudaError_t cudaMemsetAsync(void* dst, int v, size_t n, cudaStream_t = nullptr,
                                   const std::source_location loc = std::source_location::current()) {
  return cudaMemset(dst, v, n, loc);
}
inline cudaError_t cudaStreamCreate(cudaStream_t* s) {
  *s = nullptr;
  return cudaSuccess;
}
constexpr unsigned cudaStreamNonBlocking = 1;
inline cudaError_t cudaStreamCreateWithFlags(cudaStream_t* s, unsigned) {
  *s = nullptr;  // every emulated copy and launch completes before it returns: one ordering for all streams
  return cudaSuccess;
}
inline cudaError_t cudaStreamDestroy(cudaStream_t) { return cudaSuccess; }
// Events: emulated work is complete when its call returns, so an event is only a token.
using cudaEvent_t = struct MbEmuEvent*;
constexpr unsigned cudaEventDisableTiming = 2;
inline cudaError_t cudaEventCreateWithFlags(cudaEvent_t* e, unsigned) {
  *e = nullptr;
  return cudaSuccess;
}
inline cudaError_t cudaEventRecord(cudaEvent_t, cudaStream_t = nullptr) { return cudaSuccess; }
inline cudaError_t cudaEventSynchronize(cudaEvent_t) { return cudaSuccess; }
inline cudaError_t cudaEventDestroy(cudaEvent_t) { return cudaSuccess; }
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return cudaSuccess; }

#define MBEMU_LAUNCH(kernel, grid, block, smem, stream, ...) \
  ::mbemu::LaunchKernel(#kernel, (grid), (block), (smem), (stream), std::source_location::current(), kernel, ##__VA_ARGS__)
#define MBEMU_EXTERN_SHARED(T, name) T* name = reinterpret_cast<T*>(::mbemu::Cur().blk->dyn.data())
