// A small shared thread pool for large inputs, with a process-wide budget so that several ops running
// at once (each on its own libuv worker thread) never oversubscribe the cores.
//
//   maskbox::pool::ParallelFor(rows, /*grain=*/64, [&](size_t begin, size_t end) { ...rows [begin,end)... });
//
// The calling thread always works too. Helpers come from one pool of (threads - 1) OS threads created
// on first use. A global budget of `Threads()` busy threads is shared by every ParallelFor in the
// process: each caller counts itself, and takes only the helpers that are free in the budget (maybe
// none) — so 4 concurrent ops on 2 cores run 4 callers and no helpers, not 4 x 2 threads.
// `MASKBOX_THREADS=<n>` (read once) caps the budget; default std::thread::hardware_concurrency().
#pragma once

#include <cstddef>
#include <functional>

namespace maskbox::pool {

/** The budget: the most threads (callers + helpers) that ParallelFor keeps busy process-wide. */
size_t Threads();

/**
 * Run `fn(begin, end)` over consecutive chunks covering [0, n), each at least `grain` long (except the
 * last), on the calling thread plus the helpers the budget allows. Returns when every chunk is done.
 * The first exception thrown by `fn` is rethrown here (remaining chunks are skipped).
 * Chunks may run in any order and concurrently: `fn` must only write state owned by its chunk.
 */
void ParallelFor(size_t n, size_t grain, const std::function<void(size_t, size_t)>& fn);

}  // namespace maskbox::pool
