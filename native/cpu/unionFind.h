// A lock-free union-find for parallel connected components (DBSCAN's core points). Header-only.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

#include "pool.h"

namespace maskbox::cpu {

// A root is its set's lowest element: Link hangs the larger root under the smaller with a CAS (which
// fails, and retries, if that root was linked meanwhile), so parent[x] <= x and no cycle can form.
// Find halves paths with plain stores (see Find). Safe to call from any number of threads at once.
class UnionFind {
 public:
  explicit UnionFind(size_t n) : parent_(new std::atomic<int32_t>[n]) {
    pool::ParallelFor(n, size_t{1} << 16, [&](size_t b, size_t e) {
      for (size_t i = b; i < e; i++) parent_[i].store(static_cast<int32_t>(i), std::memory_order_relaxed);
    });
  }
  int32_t Parent(int32_t x) const { return parent_[x].load(std::memory_order_relaxed); }
  int32_t Find(int32_t x) const {
    for (;;) {
      const int32_t p = parent_[x].load(std::memory_order_acquire);
      if (p == x) return x;
      const int32_t gp = parent_[p].load(std::memory_order_acquire);
      // Path halving with a plain store: x is not a root, so only other Finds write parent[x], each an
      // ancestor of x (links are never undone); whichever store lands last still points up the tree.
      if (gp != p) parent_[x].store(gp, std::memory_order_release);
      x = gp;
    }
  }
  /** Joins the sets of a and b; returns the root of the union (as of the link). */
  int32_t Link(int32_t a, int32_t b) {
    for (;;) {
      a = Find(a);
      b = Find(b);
      if (a == b) return a;
      if (a < b) std::swap(a, b);
      int32_t expected = a;  // hang the larger root under the smaller, if it is still a root
      if (parent_[a].compare_exchange_strong(expected, b, std::memory_order_acq_rel)) return b;
    }
  }

 private:
  std::unique_ptr<std::atomic<int32_t>[]> parent_;
};

}  // namespace maskbox::cpu
