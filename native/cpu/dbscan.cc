// DBSCAN on the CPU (see dbscan.h): labels identical to src/backends/js/dbscan.ts, so to scikit-learn's.
// JS: addon.dbscan({ points: Float64Array | Float32Array, dims, eps, minSamples, labels: Int32Array [n],
//     core: Uint8Array [n] }) -> Promise<number> (the number of clusters); labels/core are filled in place.
//
// Why the parallel path gives sklearn's labels: without sqrt-ties every neighbourhood is symmetric
// (`dx*dx + dy*dy <= eps*eps` both ways), and then sklearn's sequential expansion equals DESIGN's
// order-independent definition: clusters are the connected components of core points, numbered by
// their lowest-index core point; a border point takes the smallest label among its core neighbours.
// Sqrt-tie pairs (S > eps^2 but sqrt(S) <= eps: integer data has them only when eps^2 rounds just below
// an integer, e.g. eps = sqrt(13), never with eps = 3) make some neighbourhoods one-way, where the
// definition no longer holds: such inputs (and n <= 11, sklearn's brute force) are labelled by sklearn's
// own sequential expansion over the directed neighbourhoods, in C++ too — the same rules as the JS
// kernel (dbscanTies.cc), no fallback to JS. The tie test costs one comparison in
// the counting pass; the sequential path runs only when it finds a tie.
//
// Paths, in the order tried: n <= 11 (sklearn's brute force) -> integer 2-D coordinates through a
// raster of point indices (dbscanRaster.cc: dense pixels, the baseline's case) -> integer 2-D
// coordinates too sparse for a raster, through sorted rows (dbscanRows.cc) -> the grid below. Each gives
// the JS kernel's labels; test/dbscanNative.test.ts checks every path against it.
#include "cpu/dbscan.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "cpu/dbscanRaster.h"
#include "cpu/dbscanRows.h"
#include "cpu/dbscanTies.h"
#include "cpu/unionFind.h"
#include "cuda/dbscan_math.h"  // the distance / tie decisions and grid cells, shared with the CUDA kernel
#include "pool.h"

namespace maskbox::cpu {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr size_t kCellGrain = 256;  // cells per ParallelFor chunk, at least
constexpr int32_t kGather = 64;     // candidates gathered per batch in the union pass

// Points bucketed into grid cells (side eps * (1 + 2^-20), as the JS kernel: rounding can then never
// put two points within eps, sqrt-ties included, two cells apart). Everything is indexed by sorted
// position: cell-major, cells in row-major grid order, input order within a cell.
struct Grid {
  size_t n = 0, dims = 0, cells = 0;
  std::vector<int32_t> order;       // sorted position -> input index
  std::vector<int32_t> pos;         // input index -> sorted position
  std::vector<double> coords;       // sorted: [n * dims] point-major; for dims == 2 all x, then all y
  double At(size_t p, size_t k) const { return dims == 2 ? coords[k * n + p] : coords[p * dims + k]; }
  std::vector<int32_t> cell_start;  // [cells + 1]
  // [cells * 6]: for the grid rows above, at and below a cell, the sorted positions [lo, hi) of the
  // (up to) three cells around it in that row. Cells are in row-major order, so the non-empty ones
  // among three neighbours in a row are consecutive and their points are one contiguous range.
  std::vector<int32_t> range;
};

template <typename T>
void CheckFinite(const T* pts, size_t count) {
  bool ok = true;
  for (size_t i = 0; i < count; i++) ok &= std::isfinite(static_cast<double>(pts[i]));
  if (ok) return;
  for (size_t i = 0; i < count; i++) {
    if (!std::isfinite(static_cast<double>(pts[i])))
      throw std::invalid_argument("points[" + std::to_string(i) + "] is not a finite coordinate");
  }
}

template <typename T>
Grid BuildGrid(const T* pts, size_t n, size_t dims, double eps) {
  Grid g;
  g.n = n;
  g.dims = dims;
  const bool two = dims >= 2;
  double min_x = kInf, max_x = -kInf, min_y = two ? kInf : 0, max_y = two ? -kInf : 0;
  for (size_t i = 0; i < n; i++) {
    const double x = pts[i * dims];
    min_x = std::min(min_x, x);
    max_x = std::max(max_x, x);
    if (two) {
      const double y = pts[i * dims + 1];
      min_y = std::min(min_y, y);
      max_y = std::max(max_y, y);
    }
  }
  const math::DbscanGrid shape = math::MakeDbscanGrid(eps, min_x, max_x, min_y, max_y);
  const double side = shape.side;
  const int64_t nx = shape.nx, ny = shape.ny;
  const auto axis = [side](double v, double lo, int64_t cells) { return math::DbscanCell(v, lo, side, cells); };
  std::vector<int64_t> key(n);
  pool::ParallelFor(n, size_t{1} << 15, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; i++) {
      const int64_t cx = axis(pts[i * dims], min_x, nx);
      const int64_t cy = two ? axis(pts[i * dims + 1], min_y, ny) : 0;
      key[i] = cx + cy * nx;
    }
  });

  // Cells in key (row-major) order; `lookup(key)` -> compact id or -1.
  std::vector<int64_t> cell_key;
  std::vector<int32_t> cell_of_point(n);
  std::vector<int32_t> dense_id;  // [nx * ny] when that is at most 4n + 4096 entries
  const bool dense = static_cast<double>(nx) * static_cast<double>(ny) <= 4.0 * static_cast<double>(n) + 4096;
  if (dense) {
    dense_id.assign(static_cast<size_t>(nx * ny), 0);
    for (size_t i = 0; i < n; i++) dense_id[key[i]]++;
    int32_t run = 0;
    for (size_t k = 0; k < dense_id.size(); k++) {
      if (dense_id[k] == 0) {
        dense_id[k] = -1;
        continue;
      }
      g.cell_start.push_back(run);
      run += dense_id[k];
      dense_id[k] = static_cast<int32_t>(cell_key.size());
      cell_key.push_back(static_cast<int64_t>(k));
    }
    for (size_t i = 0; i < n; i++) cell_of_point[i] = dense_id[key[i]];
  } else {
    std::vector<std::pair<int64_t, int32_t>> kv(n);
    for (size_t i = 0; i < n; i++) kv[i] = {key[i], static_cast<int32_t>(i)};
    std::sort(kv.begin(), kv.end());
    for (size_t p = 0; p < n; p++) {
      if (p == 0 || kv[p].first != kv[p - 1].first) {
        g.cell_start.push_back(static_cast<int32_t>(p));
        cell_key.push_back(kv[p].first);
      }
      cell_of_point[kv[p].second] = static_cast<int32_t>(cell_key.size() - 1);
    }
  }
  g.cells = cell_key.size();
  g.cell_start.push_back(static_cast<int32_t>(n));
  const auto lookup = [&](int64_t cx, int64_t cy) -> int32_t {
    if (cx < 0 || cy < 0 || cx >= nx || cy >= ny) return -1;
    const int64_t k = cx + cy * nx;
    if (dense) return dense_id[static_cast<size_t>(k)];
    auto it = std::lower_bound(cell_key.begin(), cell_key.end(), k);
    return it != cell_key.end() && *it == k ? static_cast<int32_t>(it - cell_key.begin()) : -1;
  };

  // Counting sort by cell (stable: input order within a cell).
  std::vector<int32_t> fill(g.cell_start.begin(), g.cell_start.end() - 1);
  g.order.resize(n);
  g.pos.resize(n);
  g.coords.resize(n * dims);
  for (size_t i = 0; i < n; i++) {
    const int32_t p = fill[cell_of_point[i]]++;
    g.order[p] = static_cast<int32_t>(i);
    g.pos[i] = p;
  }
  pool::ParallelFor(n, size_t{1} << 15, [&](size_t b, size_t e) {
    for (size_t p = b; p < e; p++) {
      const size_t i = static_cast<size_t>(g.order[p]);
      if (dims == 2) {
        g.coords[p] = pts[2 * i];
        g.coords[n + p] = pts[2 * i + 1];
      } else {
        for (size_t k = 0; k < dims; k++) g.coords[p * dims + k] = pts[i * dims + k];
      }
    }
  });

  g.range.resize(g.cells * 6);
  pool::ParallelFor(g.cells, size_t{1} << 12, [&](size_t b, size_t e) {
    for (size_t c = b; c < e; c++) {
      const int64_t cx = cell_key[c] % nx, cy = cell_key[c] / nx;
      for (int64_t dy = -1; dy <= 1; dy++) {
        int32_t first = -1, last = -1;
        for (int64_t dx = -1; dx <= 1; dx++) {
          const int32_t id = lookup(cx + dx, cy + dy);
          if (id < 0) continue;
          if (first < 0) first = id;
          last = id;
        }
        int32_t* r = &g.range[6 * c + 2 * static_cast<size_t>(dy + 1)];
        r[0] = first < 0 ? 0 : g.cell_start[first];
        r[1] = first < 0 ? 0 : g.cell_start[last + 1];
      }
    }
  });
  return g;
}

/** Squared distance between sorted positions a and b, summed in dimension order (as sklearn and JS). */
template <bool kTwo>
inline double SqDist(const Grid& g, size_t a, size_t b) {
  const double* c = g.coords.data();
  if constexpr (kTwo) return math::SqDist2(c[a], c[g.n + a], c[b], c[g.n + b]);
  return math::SqDistN(&c[a * g.dims], &c[b * g.dims], g.dims, 1);
}

/** Calls fn(b) for every sorted position b in the 3x3 cells around cell c. */
template <typename Fn>
inline void ForNeighbours(const Grid& g, size_t c, Fn&& fn) {
  const int32_t* r = &g.range[6 * c];
  for (int row = 0; row < 3; row++)
    for (int32_t b = r[2 * row], e = r[2 * row + 1]; b < e; b++) fn(b);
}

/** Calls fn(b) for the sorted positions b > a in the 3x3 cells around a's cell c (each pair once). */
template <typename Fn>
inline void ForLaterNeighbours(const Grid& g, size_t c, int32_t a, Fn&& fn) {
  const int32_t* r = &g.range[6 * c];
  for (int32_t b = a + 1, e = r[3]; b < e; b++) fn(b);  // this row: later in a's cell, the cell after
  for (int32_t b = r[4], e = r[5]; b < e; b++) fn(b);    // the row below
}

// Points of [b, e) within eps of a (k) and sqrt-ties with a (t), 2-D. Branch-free with double
// accumulators (exact below 2^53) so that GCC vectorizes it even for SSE2.
inline void CountRange2(const double* x, const double* y, int32_t a, int32_t b, int32_t e, double r2, double tie_bound,
                        double* k, double* t) {
  const double xa = x[a], ya = y[a];
  double kk = 0, tt = 0;
  for (int32_t i = b; i < e; i++) {
    const double d = math::SqDist2(xa, ya, x[i], y[i]);
    kk += math::WithinEps(d, r2) ? 1.0 : 0.0;
    tt += math::SqrtTie(d, r2, tie_bound) ? 1.0 : 0.0;
  }
  *k += kk;
  *t += tt;
}

/** Neighbour counts (self included) per sorted position; returns how many sqrt-tie pairs were seen. */
template <bool kTwo>
size_t CountNeighbours(const Grid& g, double r2, double tie_bound, int32_t* count) {
  std::atomic<size_t> ties{0};
  pool::ParallelFor(g.cells, kCellGrain, [&](size_t c0, size_t c1) {
    size_t local = 0;
    for (size_t cell = c0; cell < c1; cell++) {
      for (int32_t a = g.cell_start[cell]; a < g.cell_start[cell + 1]; a++) {
        double k = 0, t = 0;
        const int32_t* r = &g.range[6 * cell];
        for (int row = 0; row < 3; row++) {
          if constexpr (kTwo) {
            CountRange2(g.coords.data(), g.coords.data() + g.n, a, r[2 * row], r[2 * row + 1], r2, tie_bound, &k, &t);
          } else {
            for (int32_t b = r[2 * row], e = r[2 * row + 1]; b < e; b++) {
              const double d = SqDist<kTwo>(g, a, b);
              k += math::WithinEps(d, r2) ? 1.0 : 0.0;
              t += math::SqrtTie(d, r2, tie_bound) ? 1.0 : 0.0;
            }
          }
        }
        count[a] = static_cast<int32_t>(k);
        local += static_cast<size_t>(t);
      }
    }
    ties.fetch_add(local, std::memory_order_relaxed);
  });
  return ties.load();
}

/** The parallel path (no sqrt-ties): components of core points, numbered, then border points. */
template <bool kTwo>
int32_t LabelParallel(const Grid& g, double r2, const std::vector<uint8_t>& core, int32_t* labels,
                      uint8_t* core_out) {
  const size_t n = g.n;
  UnionFind uf(n);
  pool::ParallelFor(g.cells, kCellGrain, [&](size_t c0, size_t c1) {
    for (size_t cell = c0; cell < c1; cell++) {
      for (int32_t a = g.cell_start[cell]; a < g.cell_start[cell + 1]; a++) {
        if (!core[a]) continue;
        int32_t ra = a;  // a root of a's set, maybe stale: Link re-finds
        const int32_t* r = &g.range[6 * cell];
        // The later core neighbours within eps, gathered branch-free (the test is unpredictable), then linked.
        const int32_t spans[2][2] = {{a + 1, r[3]}, {r[4], r[5]}};
        for (const auto& span : spans) {
          for (int64_t b0 = span[0]; b0 < span[1]; b0 += kGather) {
            int32_t buf[kGather], m = 0;
            for (int32_t b = static_cast<int32_t>(b0), e = static_cast<int32_t>(std::min<int64_t>(span[1], b0 + kGather));
                 b < e; b++) {
              buf[m] = b;
              m += core[b] & static_cast<int32_t>(math::WithinEps(SqDist<kTwo>(g, a, b), r2));
            }
            for (int32_t j = 0; j < m; j++)
              if (uf.Parent(buf[j]) != ra) ra = uf.Link(ra, buf[j]);  // most are linked to ra already
          }
        }
      }
    }
  });
  std::vector<int32_t> root(n, -1);
  pool::ParallelFor(n, size_t{1} << 14, [&](size_t b, size_t e) {
    for (size_t a = b; a < e; a++)
      if (core[a]) root[a] = uf.Find(static_cast<int32_t>(a));
  });
  // Clusters numbered in order of their lowest-index core point (input order).
  std::vector<int32_t> cluster(n, -1);  // by root
  int32_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const int32_t a = g.pos[i];
    if (core[a] && cluster[root[a]] < 0) cluster[root[a]] = k++;
  }
  pool::ParallelFor(g.cells, kCellGrain, [&](size_t c0, size_t c1) {
    for (size_t cell = c0; cell < c1; cell++) {
      for (int32_t a = g.cell_start[cell]; a < g.cell_start[cell + 1]; a++) {
        int32_t l = -1;
        if (core[a]) {
          l = cluster[root[a]];
        } else {
          ForNeighbours(g, cell, [&](int32_t b) {
            if (!core[b] || !math::WithinEps(SqDist<kTwo>(g, a, b), r2)) return;
            const int32_t lb = cluster[root[b]];
            if (l < 0 || lb < l) l = lb;
          });
        }
        labels[g.order[a]] = l;
        core_out[g.order[a]] = core[a];
      }
    }
  });
  return k;
}

/**
 * sklearn's dbscan_inner over directed neighbourhoods: seeds in input order; an unlabelled core seed
 * starts cluster k, which takes everything still unlabelled that it reaches through core points.
 * `more(a, fn)` lists a's neighbours (by the caller's indexing); `seed_at(i)` maps input index i to it.
 */
template <typename SeedAt, typename More>
int32_t ExpandSequential(size_t n, const uint8_t* core, int32_t* lab, SeedAt seed_at, More more) {
  std::fill(lab, lab + n, -1);
  std::vector<int32_t> stack;
  int32_t k = 0;
  for (size_t seed = 0; seed < n; seed++) {
    const int32_t s = seed_at(seed);
    if (lab[s] != -1 || !core[s]) continue;
    lab[s] = k;
    stack.assign(1, s);
    while (!stack.empty()) {
      const int32_t a = stack.back();
      stack.pop_back();
      more(a, [&](int32_t b) {
        if (lab[b] != -1) return;
        lab[b] = k;
        if (core[b]) stack.push_back(b);
      });
    }
    k++;
  }
  return k;
}

/** The sqrt-tie path: sklearn's directed neighbourhoods (grid pairs within eps plus the KD-tree's ties). */
template <bool kTwo>
int32_t LabelWithTies(const Grid& g, double r2, double tie_bound, int64_t min_samples, std::vector<int32_t>& count,
                      int32_t* labels, uint8_t* core_out) {
  const size_t n = g.n, dims = g.dims;
  std::vector<int32_t> cell_of(n);
  for (size_t cell = 0; cell < g.cells; cell++)
    std::fill(cell_of.begin() + g.cell_start[cell], cell_of.begin() + g.cell_start[cell + 1], static_cast<int32_t>(cell));
  std::vector<int32_t> pairs;  // each unordered pair once, input indices
  for (size_t cell = 0; cell < g.cells; cell++) {
    for (int32_t a = g.cell_start[cell]; a < g.cell_start[cell + 1]; a++) {
      ForLaterNeighbours(g, cell, a, [&](int32_t b) {
        const double d = SqDist<kTwo>(g, a, b);
        if (math::SqrtTie(d, r2, tie_bound)) pairs.insert(pairs.end(), {g.order[a], g.order[b]});
      });
    }
  }
  std::vector<double> input(n * dims);  // input order, as sklearn's tree sees it
  for (size_t i = 0; i < n; i++)
    for (size_t k = 0; k < dims; k++) input[i * dims + k] = g.At(static_cast<size_t>(g.pos[i]), k);
  const std::vector<int32_t> edges = ResolveSqrtTies(input.data(), dims, n, pairs, tie_bound);
  Csr extra;  // by sorted position
  extra.start.assign(n + 1, 0);
  for (size_t t = 0; t < edges.size(); t += 2) extra.start[g.pos[edges[t]] + 1]++;
  for (size_t a = 0; a < n; a++) extra.start[a + 1] += extra.start[a];
  extra.adj.resize(edges.size() / 2);
  std::vector<int32_t> fill(extra.start.begin(), extra.start.end() - 1);
  for (size_t t = 0; t < edges.size(); t += 2) {
    const int32_t from = g.pos[edges[t]];
    count[from]++;
    extra.adj[fill[from]++] = g.pos[edges[t + 1]];
  }
  std::vector<uint8_t> core(n);
  for (size_t a = 0; a < n; a++) core[a] = count[a] >= min_samples;
  std::vector<int32_t> lab(n);
  const int32_t k = ExpandSequential(
      n, core.data(), lab.data(), [&](size_t i) { return g.pos[i]; },
      [&](int32_t a, auto&& take) {
        ForNeighbours(g, cell_of[a], [&](int32_t b) {
          if (math::WithinEps(SqDist<kTwo>(g, a, b), r2)) take(b);
        });
        for (int32_t t = extra.start[a]; t < extra.start[a + 1]; t++) take(extra.adj[t]);
      });
  for (size_t a = 0; a < n; a++) {
    labels[g.order[a]] = lab[a];
    core_out[g.order[a]] = core[a];
  }
  return k;
}

template <bool kTwo>
int32_t LabelGrid(const Grid& g, const DbscanOptions& o, int32_t* labels, uint8_t* core_out) {
  const double r2 = o.eps * o.eps;
  const double tie_bound = SqrtTieBound(o.eps);
  std::vector<int32_t> count(g.n);
  const size_t ties = CountNeighbours<kTwo>(g, r2, tie_bound, count.data());
  if (ties > 0) return LabelWithTies<kTwo>(g, r2, tie_bound, o.min_samples, count, labels, core_out);
  std::vector<uint8_t> core(g.n);
  for (size_t a = 0; a < g.n; a++) core[a] = count[a] >= o.min_samples;
  return LabelParallel<kTwo>(g, r2, core, labels, core_out);
}

/** n <= 11: sklearn's brute-force neighbourhoods, then its labelling. */
template <typename T>
int32_t LabelSmall(const T* pts, const DbscanOptions& o, int32_t* labels, uint8_t* core) {
  const size_t n = o.n;
  std::vector<double> p(pts, pts + n * o.dims);
  const Csr nb = BruteNeighbors(p.data(), o.dims, n, o.eps, std::is_same_v<T, float>);
  for (size_t i = 0; i < n; i++) core[i] = nb.start[i + 1] - nb.start[i] >= o.min_samples;
  return ExpandSequential(
      n, core, labels, [](size_t i) { return static_cast<int32_t>(i); },
      [&](int32_t a, auto&& take) {
        for (int32_t t = nb.start[a]; t < nb.start[a + 1]; t++) take(nb.adj[t]);
      });
}

}  // namespace

template <typename T>
void CheckDbscanInput(const T* points, const DbscanOptions& o) {
  if (o.dims == 0) throw std::invalid_argument("dims must be >= 1");
  if (o.n > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    throw std::invalid_argument("at most 2^31-1 points");
  if (!(o.eps > 0) || !std::isfinite(o.eps)) throw std::invalid_argument("eps must be finite and > 0");
  if (o.min_samples < 1) throw std::invalid_argument("minSamples must be >= 1");
  CheckFinite(points, o.n * o.dims);
}

template <typename T>
int32_t Dbscan(const T* points, const DbscanOptions& o, int32_t* labels, uint8_t* core) {
  CheckDbscanInput(points, o);
  if (o.n == 0) return 0;
  if (o.n <= kSklearnBruteMax) return LabelSmall(points, o, labels, core);
  int32_t clusters = 0;
  if (DbscanRaster(points, o, labels, core, &clusters)) return clusters;
  if (DbscanRows(points, o, labels, core, &clusters)) return clusters;
  const Grid g = BuildGrid(points, o.n, o.dims, o.eps);
  return o.dims == 2 ? LabelGrid<true>(g, o, labels, core) : LabelGrid<false>(g, o, labels, core);
}

template int32_t Dbscan<double>(const double*, const DbscanOptions&, int32_t*, uint8_t*);
template int32_t Dbscan<float>(const float*, const DbscanOptions&, int32_t*, uint8_t*);
template void CheckDbscanInput<double>(const double*, const DbscanOptions&);
template void CheckDbscanInput<float>(const float*, const DbscanOptions&);

}  // namespace maskbox::cpu

#ifndef MASKBOX_CORE_ONLY
#include "common.h"

namespace maskbox::cpu {
namespace {

int32_t CpuDbscan(const double* points64, const float* points32, const DbscanOptions& o, int32_t* labels, uint8_t* core) {
  return points32 ? Dbscan(points32, o, labels, core) : Dbscan(points64, o, labels, core);
}

class DbscanWorker : public Worker {
 public:
  using Worker::Worker;
  DbscanKernel kernel = CpuDbscan;
  bool float32 = false;
  View<const double> points64;
  View<const float> points32;
  View<int32_t> labels;
  View<uint8_t> core;
  DbscanOptions options;
  int32_t clusters = 0;

  void Run() override {
    clusters = float32 ? kernel(nullptr, points32.data, options, labels.data, core.data)
                       : kernel(points64.data, nullptr, options, labels.data, core.data);
  }
  Napi::Value Result(Napi::Env env) override { return Napi::Number::New(env, clusters); }
};

}  // namespace

Napi::Value JsDbscanWith(const Napi::CallbackInfo& info, DbscanKernel kernel, const char* op);

Napi::Value JsDbscan(const Napi::CallbackInfo& info) { return JsDbscanWith(info, CpuDbscan, "dbscan"); }

Napi::Value JsDbscanWith(const Napi::CallbackInfo& info, DbscanKernel kernel, const char* op) {
  Args args(info, op);
  auto w = std::make_unique<DbscanWorker>(info.Env(), op);
  w->kernel = kernel;
  DbscanOptions& o = w->options;
  const Napi::Value points = info[0].As<Napi::Object>().Get("points");
  const napi_typedarray_type type =
      points.IsTypedArray() ? points.As<Napi::TypedArray>().TypedArrayType() : napi_uint8_clamped_array;
  if (type != napi_float64_array && type != napi_float32_array) {
    args.TypeFail("points", "a Float64Array or Float32Array", Describe(points));
  }
  const size_t length = points.As<Napi::TypedArray>().ElementLength();
  if (length != 0 && points.As<Napi::TypedArray>().ArrayBuffer().Data() == nullptr) {
    args.TypeFail("points", "a typed array whose buffer is not detached", "a detached buffer");
  }
  o.dims = static_cast<size_t>(args.Integer("dims", 1, 1 << 20));
  o.eps = args.Number("eps", std::numeric_limits<double>::denorm_min(), std::numeric_limits<double>::max());
  o.min_samples = args.Integer("minSamples", 1, std::numeric_limits<int32_t>::max());
  args.MultipleOf("points", length, o.dims, "a length that is a multiple of dims");
  o.n = length / o.dims;
  if (o.n > static_cast<size_t>(std::numeric_limits<int32_t>::max()))
    args.RangeFail("points", "at most 2^31-1 points", std::to_string(o.n) + " points");
  auto labels = args.Int32("labels");
  args.Length("labels", labels.ElementLength(), o.n, "an Int32Array with one label per point");
  auto core = args.Uint8("core");
  args.Length("core", core.ElementLength(), o.n, "a Uint8Array with one flag per point");
  w->float32 = type == napi_float32_array;
  if (w->float32) w->points32 = w->HoldConst(points.As<Napi::TypedArrayOf<float>>());
  else w->points64 = w->HoldConst(points.As<Napi::TypedArrayOf<double>>());
  w->labels = w->Hold(labels);
  w->core = w->Hold(core);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
