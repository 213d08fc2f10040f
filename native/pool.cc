#include "pool.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace maskbox::pool {

namespace {

size_t ReadBudget() {
  size_t n = std::thread::hardware_concurrency();
  if (n == 0) n = 1;
  if (const char* env = std::getenv("MASKBOX_THREADS")) {
    long v = std::strtol(env, nullptr, 10);
    if (v >= 1 && v <= 1024) n = static_cast<size_t>(v);
  }
  return n;
}

// Helper threads, created once and never destroyed (they sleep on a condition variable; the process
// exits around them). Deliberately leaked: joining in a static destructor at exit can deadlock.
class Pool {
 public:
  explicit Pool(size_t threads) {
    for (size_t i = 0; i < threads; i++) std::thread([this] { Loop(); }).detach();
  }
  void Submit(std::function<void()> task) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void Loop() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock<std::mutex> lock(mu_);
        cv_.wait(lock, [this] { return !tasks_.empty(); });
        task = std::move(tasks_.front());
        tasks_.pop_front();
      }
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> tasks_;
};

std::atomic<long> g_busy{0};

Pool& GetPool() {
  static Pool* pool = new Pool(Threads() > 1 ? Threads() - 1 : 0);
  return *pool;
}

// Reserve up to `want` helpers from the budget; the caller has already counted itself in g_busy.
size_t Reserve(size_t want) {
  const long budget = static_cast<long>(Threads());
  long cur = g_busy.load();
  for (;;) {
    long free = budget - cur;
    long take = std::min<long>(static_cast<long>(want), std::max<long>(0, free));
    if (take == 0) return 0;
    if (g_busy.compare_exchange_weak(cur, cur + take)) return static_cast<size_t>(take);
  }
}

// State shared by the caller and its helpers for one ParallelFor; lives on the caller's stack, which
// waits for every helper to finish before returning.
struct Job {
  const std::function<void(size_t, size_t)>* fn;
  size_t n, chunk, chunks;
  std::atomic<size_t> next{0};
  std::atomic<bool> failed{false};
  std::exception_ptr error;
  std::mutex mu;
  std::condition_variable cv;
  size_t helpers_done = 0;

  void Work() {
    for (;;) {
      size_t c = next.fetch_add(1);
      if (c >= chunks || failed.load(std::memory_order_relaxed)) return;
      size_t begin = c * chunk, end = std::min(n, begin + chunk);
      try {
        (*fn)(begin, end);
      } catch (...) {
        std::lock_guard<std::mutex> lock(mu);
        if (!failed.exchange(true)) error = std::current_exception();
      }
    }
  }
};

}  // namespace

size_t Threads() {
  static const size_t budget = ReadBudget();
  return budget;
}

void ParallelFor(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn) {
  if (n == 0) return;
  grain = std::max<size_t>(grain, 1);
  // About 4 chunks per thread, for balance when rows cost different amounts.
  size_t chunk = std::max(grain, (n + Threads() * 4 - 1) / (Threads() * 4));
  size_t chunks = (n + chunk - 1) / chunk;
  if (chunks <= 1 || Threads() <= 1) {
    fn(0, n);
    return;
  }
  g_busy.fetch_add(1);
  size_t helpers = Reserve(std::min(chunks - 1, Threads() - 1));
  Job job;
  job.fn = &fn;
  job.n = n;
  job.chunk = chunk;
  job.chunks = chunks;
  Pool& pool = GetPool();
  for (size_t h = 0; h < helpers; h++) {
    pool.Submit([&job] {
      job.Work();
      std::lock_guard<std::mutex> lock(job.mu);
      job.helpers_done++;
      job.cv.notify_one();
    });
  }
  job.Work();
  {
    std::unique_lock<std::mutex> lock(job.mu);
    job.cv.wait(lock, [&] { return job.helpers_done == helpers; });
  }
  g_busy.fetch_sub(static_cast<long>(1 + helpers));
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace maskbox::pool
