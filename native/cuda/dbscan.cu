// DBSCAN on the device, with scikit-learn's labels (DESIGN "Kernel contracts" / DBSCAN, cpu/dbscan.h):
// the cpu grid path's passes, each a kernel. Bounds (per-block min/max) -> grid cells of side
// eps * (1 + 2^-20) over the first two dims (dbscan_math.h, as cpu) -> points sorted by cell with the
// stable radix sort (sort.cu: input order within a cell) -> cell starts (flags + ScanLarge) -> per cell
// the point ranges of the 3x3 cells around it -> neighbour counts, one thread per point (float64, the
// same formula and summation order as the cpu, so the same decisions), with sqrt-ties counted by one
// more comparison -> core flags -> a lock-free union-find of core-core edges (atomicCAS hooking of the
// larger root under the smaller, path halving; ECL-CC style: no thread waits for another) -> each
// component's lowest input index (atomicMin), numbered by a scan over input order -> border points
// take the smallest cluster among their core neighbours.
//
// Host code reused, not copied: for n <= 11 (sklearn's brute force) and for inputs with a sqrt-tie
// pair, sklearn's decisions are sequential and one-way (cpu/dbscanTies.h), so those inputs are labelled
// by cpu::Dbscan on the host, whose paths there are dbscanTies.cc's brute force / KD-tree tie rules and
// its sequential expansion. The device only detects the ties (never with integer data and eps = 3).
#include "maskbox_cuda.h"

#include <cmath>
#include <cstring>
#include <limits>

#include "blockScan.cuh"
#include "cpu/dbscan.h"
#include "cpu/dbscanTies.h"
#include "dbscan_math.h"
#include "detail.h"

namespace maskbox::cuda {
namespace detail {
namespace {

constexpr unsigned kThreads = 256;

// Per block: min x, max x, min y, max y of the points (y = 0 for 1-D) into out[4 * blockIdx.x ..].
template <typename T>
__global__ void __launch_bounds__(kThreads) BoundsKernel(const T* pts, size_t n, size_t dims, double* out) {
  __shared__ double red[4][kThreads];
  double v[4] = {INFINITY, -INFINITY, dims >= 2 ? INFINITY : 0.0, dims >= 2 ? -INFINITY : 0.0};
  for (size_t i = size_t(blockIdx.x) * kThreads + threadIdx.x; i < n; i += size_t(gridDim.x) * kThreads) {
    const double x = static_cast<double>(pts[i * dims]);
    v[0] = x < v[0] ? x : v[0];
    v[1] = x > v[1] ? x : v[1];
    if (dims >= 2) {
      const double y = static_cast<double>(pts[i * dims + 1]);
      v[2] = y < v[2] ? y : v[2];
      v[3] = y > v[3] ? y : v[3];
    }
  }
  for (int k = 0; k < 4; k++) red[k][threadIdx.x] = v[k];
  __syncthreads();
  for (unsigned half = kThreads / 2; half > 0; half >>= 1) {
    if (threadIdx.x < half) {
      const unsigned o = threadIdx.x + half;
      for (int k = 0; k < 4; k += 2) {
        red[k][threadIdx.x] = red[k][o] < red[k][threadIdx.x] ? red[k][o] : red[k][threadIdx.x];
        red[k + 1][threadIdx.x] = red[k + 1][o] > red[k + 1][threadIdx.x] ? red[k + 1][o] : red[k + 1][threadIdx.x];
      }
    }
    __syncthreads();
  }
  if (threadIdx.x < 4) out[4 * size_t(blockIdx.x) + threadIdx.x] = red[threadIdx.x][0];
}

// Cell of every point; key = the row-major cell index when it fits 32 bits (one_key), else cx (then a
// second stable sort by cy). order[i] = i: the sort's values.
template <typename T>
__global__ void __launch_bounds__(kThreads) CellKernel(const T* pts, size_t n, size_t dims, math::DbscanGrid g, bool one_key, uint32_t* cx,
                                                       uint32_t* cy, uint32_t* key, int32_t* order) {
  for (size_t i = size_t(blockIdx.x) * kThreads + threadIdx.x; i < n; i += size_t(gridDim.x) * kThreads) {
    const int64_t x = math::DbscanCell(static_cast<double>(pts[i * dims]), g.min_x, g.side, g.nx);
    const int64_t y = dims >= 2 ? math::DbscanCell(static_cast<double>(pts[i * dims + 1]), g.min_y, g.side, g.ny) : 0;
    cx[i] = static_cast<uint32_t>(x);
    cy[i] = static_cast<uint32_t>(y);
    key[i] = one_key ? static_cast<uint32_t>(x + y * g.nx) : static_cast<uint32_t>(x);
    order[i] = static_cast<int32_t>(i);
  }
}

__global__ void __launch_bounds__(kThreads) GatherKeys(const uint32_t* from, const int32_t* order, size_t n, uint32_t* key) {
  for (size_t p = size_t(blockIdx.x) * kThreads + threadIdx.x; p < n; p += size_t(gridDim.x) * kThreads) key[p] = from[order[p]];
}

// Sorted position p: coordinates to coords[k * n + p] (float64, one array per dim: coalesced), its
// 64-bit cell key, and flag[p] = 1 where a cell starts.
template <typename T>
__global__ void __launch_bounds__(kThreads) GatherPoints(const T* pts, size_t n, size_t dims, const int32_t* order, const uint32_t* cx,
                                                         const uint32_t* cy, int64_t nx, double* coords, unsigned long long* cell_key,
                                                         unsigned* flag) {
  for (size_t p = size_t(blockIdx.x) * kThreads + threadIdx.x; p < n; p += size_t(gridDim.x) * kThreads) {
    const size_t i = static_cast<size_t>(order[p]);
    for (size_t k = 0; k < dims; k++) coords[k * n + p] = static_cast<double>(pts[i * dims + k]);
    const unsigned long long key = static_cast<unsigned long long>(cy[i]) * static_cast<unsigned long long>(nx) + cx[i];
    cell_key[p] = key;
    unsigned start = 1;
    if (p > 0) {
      const size_t j = static_cast<size_t>(order[p - 1]);
      start = static_cast<unsigned long long>(cy[j]) * static_cast<unsigned long long>(nx) + cx[j] != key;
    }
    flag[p] = start;
  }
}

// After the scan of the flags: cell_of[p] (in place), and each cell's first position, key and column/row.
__global__ void __launch_bounds__(kThreads) CellStarts(const unsigned long long* key_of, const int32_t* order, const uint32_t* cx,
                                                       const uint32_t* cy, size_t n, unsigned* cell_of, int32_t* cell_start,
                                                       unsigned long long* cell_key, uint32_t* cell_x, uint32_t* cell_y) {
  for (size_t p = size_t(blockIdx.x) * kThreads + threadIdx.x; p < n; p += size_t(gridDim.x) * kThreads) {
    const bool start = p == 0 || key_of[p] != key_of[p - 1];
    const unsigned c = cell_of[p];  // exclusive count of starts before p
    if (start) {
      cell_start[c] = static_cast<int32_t>(p);
      cell_key[c] = key_of[p];
      cell_x[c] = cx[order[p]];
      cell_y[c] = cy[order[p]];
    }
    cell_of[p] = start ? c : c - 1;
  }
}

// First cell whose key is >= k (cells sorted by key).
__device__ __forceinline__ size_t LowerBound(const unsigned long long* keys, size_t cells, unsigned long long k) {
  size_t lo = 0, hi = cells;
  while (lo < hi) {
    const size_t mid = lo + (hi - lo) / 2;
    if (keys[mid] < k) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

// range[6c + 2r .. +2): sorted positions [lo, hi) of the (up to) three cells of grid row cy - 1 + r around
// cell c; consecutive in the sort, so one range per row (the cpu's Grid::range).
__global__ void __launch_bounds__(kThreads) CellRanges(const unsigned long long* cell_key, const int32_t* cell_start, const uint32_t* cell_x,
                                                       const uint32_t* cell_y, size_t cells, int64_t nx, int64_t ny, int32_t* range) {
  for (size_t c = size_t(blockIdx.x) * kThreads + threadIdx.x; c < cells; c += size_t(gridDim.x) * kThreads) {
    const int64_t cx = cell_x[c], cy = cell_y[c];
    const int64_t x0 = cx > 0 ? cx - 1 : 0, x1 = cx + 1 < nx ? cx + 1 : nx - 1;
    for (int r = 0; r < 3; r++) {
      const int64_t row = cy - 1 + r;
      int32_t lo = 0, hi = 0;
      if (row >= 0 && row < ny) {
        const size_t first = LowerBound(cell_key, cells, static_cast<unsigned long long>(row * nx + x0));
        const size_t last = LowerBound(cell_key, cells, static_cast<unsigned long long>(row * nx + x1 + 1));
        lo = cell_start[first];
        hi = cell_start[last];  // cell_start[cells] = n
      }
      range[6 * c + 2 * r] = lo;
      range[6 * c + 2 * r + 1] = hi;
    }
  }
}

struct Points {
  const double* c;  // coords[k * n + p]
  size_t n, dims;
};

__device__ __forceinline__ double SqDist(const Points& P, size_t a, size_t b) {
  if (P.dims == 2) return math::SqDist2(P.c[a], P.c[P.n + a], P.c[b], P.c[P.n + b]);
  return math::SqDistN(P.c + a, P.c + b, P.dims, P.n);
}

// Neighbours within eps (self included) -> core flag; sqrt-tie pairs counted into *ties (each twice).
__global__ void __launch_bounds__(kThreads) CountKernel(Points P, const unsigned* cell_of, const int32_t* range, double r2, double tie_bound,
                                                        long long min_samples, uint8_t* core, unsigned long long* ties) {
  for (size_t a = size_t(blockIdx.x) * kThreads + threadIdx.x; a < P.n; a += size_t(gridDim.x) * kThreads) {
    const int32_t* r = range + 6 * size_t(cell_of[a]);
    long long k = 0;
    unsigned long long t = 0;
    for (int row = 0; row < 3; row++) {
      for (int32_t b = r[2 * row], e = r[2 * row + 1]; b < e; b++) {
        const double d = SqDist(P, a, static_cast<size_t>(b));
        k += math::WithinEps(d, r2) ? 1 : 0;
        t += math::SqrtTie(d, r2, tie_bound) ? 1 : 0;
      }
    }
    core[a] = k >= min_samples ? 1 : 0;
    if (t) atomicAdd(ties, t);
  }
}

// The union-find: parent[x] <= x, a root is its set's lowest sorted position. Loads that other threads'
// writes may change go through __ldcv (no stale cached copy); path halving stores an ancestor (any
// order of such stores still points up the tree); a root is hooked only by atomicCAS, which fails and
// retries when another thread hooked it first. No thread ever waits for another.
__device__ __forceinline__ int32_t Find(int32_t* parent, int32_t x) {
  for (;;) {
    const int32_t p = __ldcv(parent + x);
    if (p == x) return x;
    const int32_t gp = __ldcv(parent + p);
    if (gp != p) __stcg(parent + x, gp);
    x = gp;
  }
}

__device__ __forceinline__ int32_t Link(int32_t* parent, int32_t a, int32_t b) {
  for (;;) {
    a = Find(parent, a);
    b = Find(parent, b);
    if (a == b) return a;
    if (a < b) {
      const int32_t t = a;
      a = b;
      b = t;
    }
    if (atomicCAS(parent + a, a, b) == a) return b;
  }
}

__global__ void __launch_bounds__(kThreads) InitSets(size_t n, int32_t* parent, int32_t* lowest) {
  for (size_t a = size_t(blockIdx.x) * kThreads + threadIdx.x; a < n; a += size_t(gridDim.x) * kThreads) {
    parent[a] = static_cast<int32_t>(a);
    lowest[a] = INT32_MAX;
  }
}

// Links core point a (sorted position) with the core points of [b, e) within eps; ra: a root of a's set,
// maybe stale (Link finds again). Returns the root after the last link.
__device__ __forceinline__ int32_t LinkSpan(const Points& P, double r2, const uint8_t* core, int32_t* parent, size_t a, int32_t b, int32_t e,
                                            int32_t ra) {
  for (; b < e; b++) {
    if (core[b] && math::WithinEps(SqDist(P, a, static_cast<size_t>(b)), r2) && __ldcv(parent + b) != ra) ra = Link(parent, ra, b);
  }
  return ra;
}

// Each core point links its later core neighbours within eps (each pair once, as the cpu): the rest of
// its own row of cells after it, and the row below.
__global__ void __launch_bounds__(kThreads) UnionKernel(Points P, const unsigned* cell_of, const int32_t* range, double r2, const uint8_t* core,
                                                        int32_t* parent) {
  for (size_t a = size_t(blockIdx.x) * kThreads + threadIdx.x; a < P.n; a += size_t(gridDim.x) * kThreads) {
    if (!core[a]) continue;
    const int32_t* r = range + 6 * size_t(cell_of[a]);
    const int32_t ra = LinkSpan(P, r2, core, parent, a, static_cast<int32_t>(a) + 1, r[3], static_cast<int32_t>(a));
    LinkSpan(P, r2, core, parent, a, r[4], r[5], ra);
  }
}

// Core points: their root, and each root's lowest input index.
__global__ void __launch_bounds__(kThreads) RootsKernel(size_t n, const uint8_t* core, const int32_t* order, int32_t* parent, int32_t* root,
                                                        int32_t* lowest) {
  for (size_t a = size_t(blockIdx.x) * kThreads + threadIdx.x; a < n; a += size_t(gridDim.x) * kThreads) {
    if (!core[a]) continue;
    const int32_t r = Find(parent, static_cast<int32_t>(a));
    root[a] = r;
    atomicMin(lowest + r, order[a]);
  }
}

// first[i] = 1 for the input index i that is its cluster's lowest core point (scanned: cluster numbers).
__global__ void __launch_bounds__(kThreads) FirstKernel(size_t n, const uint8_t* core, const int32_t* order, const int32_t* root,
                                                        const int32_t* lowest, unsigned* first) {
  for (size_t a = size_t(blockIdx.x) * kThreads + threadIdx.x; a < n; a += size_t(gridDim.x) * kThreads)
    first[order[a]] = core[a] && lowest[root[a]] == order[a] ? 1u : 0u;
}

// Labels in input order: a core point its cluster's number; a border point the smallest among its core
// neighbours' clusters; -1 otherwise.
__global__ void __launch_bounds__(kThreads) LabelKernel(Points P, const unsigned* cell_of, const int32_t* range, double r2, const uint8_t* core,
                                                        const int32_t* order, const int32_t* root, const int32_t* lowest,
                                                        const unsigned* number, int32_t* labels, uint8_t* core_out) {
  for (size_t a = size_t(blockIdx.x) * kThreads + threadIdx.x; a < P.n; a += size_t(gridDim.x) * kThreads) {
    int32_t l = -1;
    if (core[a]) {
      l = static_cast<int32_t>(number[lowest[root[a]]]);
    } else {
      const int32_t* r = range + 6 * size_t(cell_of[a]);
      for (int row = 0; row < 3; row++) {
        for (int32_t b = r[2 * row], e = r[2 * row + 1]; b < e; b++) {
          if (!core[b] || !math::WithinEps(SqDist(P, a, static_cast<size_t>(b)), r2)) continue;
          const int32_t lb = static_cast<int32_t>(number[lowest[root[b]]]);
          if (l < 0 || lb < l) l = lb;
        }
      }
    }
    labels[order[a]] = l;
    core_out[order[a]] = core[a];
  }
}

}  // namespace

template <typename T>
int32_t DbscanOnDevice(const T* d_points, size_t n, size_t dims, double eps, int64_t min_samples, int32_t* d_labels, uint8_t* d_core,
                       cudaStream_t s) {
  if (n == 0) return 0;
  if (n > size_t(INT32_MAX)) throw std::length_error("DbscanOnDevice: more than 2^31-1 points");
  const unsigned grid = GridFor(n, kThreads);

  // Bounds -> the cpu's grid.
  DeviceBuffer<double> d_bounds(4 * size_t(grid));
  LAUNCH((BoundsKernel<T>), grid, kThreads, 0, s, d_points, n, dims, d_bounds.get());
  MB_CHECK_LAUNCH("BoundsKernel");
  std::vector<double> bounds(d_bounds.size());
  d_bounds.Download(bounds.data(), bounds.size(), s);
  MB_CHECK(cudaStreamSynchronize(s));
  double lo_x = bounds[0], hi_x = bounds[1], lo_y = bounds[2], hi_y = bounds[3];
  for (size_t b = 1; b < grid; b++) {
    lo_x = bounds[4 * b] < lo_x ? bounds[4 * b] : lo_x;
    hi_x = bounds[4 * b + 1] > hi_x ? bounds[4 * b + 1] : hi_x;
    lo_y = bounds[4 * b + 2] < lo_y ? bounds[4 * b + 2] : lo_y;
    hi_y = bounds[4 * b + 3] > hi_y ? bounds[4 * b + 3] : hi_y;
  }
  const math::DbscanGrid g = math::MakeDbscanGrid(eps, lo_x, hi_x, lo_y, hi_y);

  // Points sorted by cell (row-major cells, input order within a cell).
  const bool one_key = static_cast<double>(g.nx) * static_cast<double>(g.ny) <= 4294967296.0;
  DeviceBuffer<uint32_t> d_cx(n), d_cy(n), d_key(n), d_tmp_key(n);
  DeviceBuffer<int32_t> d_order(n), d_tmp_order(n);
  LAUNCH((CellKernel<T>), grid, kThreads, 0, s, d_points, n, dims, g, one_key, d_cx.get(), d_cy.get(), d_key.get(), d_order.get());
  MB_CHECK_LAUNCH("CellKernel");
  StableSortByKey(d_key.get(), d_order.get(), d_tmp_key.get(), d_tmp_order.get(), n, s);
  if (!one_key) {  // then by row (stable: columns stay sorted within a row)
    LAUNCH(GatherKeys, grid, kThreads, 0, s, d_cy.get(), d_order.get(), n, d_key.get());
    MB_CHECK_LAUNCH("GatherKeys");
    StableSortByKey(d_key.get(), d_order.get(), d_tmp_key.get(), d_tmp_order.get(), n, s);
  }
  DeviceBuffer<double> d_coords(n * dims);
  DeviceBuffer<unsigned long long> d_key_of(n);
  DeviceBuffer<unsigned> d_cell_of(n);
  LAUNCH((GatherPoints<T>), grid, kThreads, 0, s, d_points, n, dims, d_order.get(), d_cx.get(), d_cy.get(), g.nx, d_coords.get(),
         d_key_of.get(), d_cell_of.get());
  MB_CHECK_LAUNCH("GatherPoints");
  const size_t cells = ScanLarge(d_cell_of.get(), n, s);
  DeviceBuffer<int32_t> d_cell_start(cells + 1), d_range(6 * cells);
  DeviceBuffer<unsigned long long> d_cell_key(cells);
  DeviceBuffer<uint32_t> d_cell_x(cells), d_cell_y(cells);
  const int32_t end = static_cast<int32_t>(n);
  MB_CHECK(cudaMemcpyAsync(d_cell_start.get() + cells, &end, sizeof end, cudaMemcpyHostToDevice, s));
  LAUNCH(CellStarts, grid, kThreads, 0, s, d_key_of.get(), d_order.get(), d_cx.get(), d_cy.get(), n, d_cell_of.get(), d_cell_start.get(),
         d_cell_key.get(), d_cell_x.get(), d_cell_y.get());
  MB_CHECK_LAUNCH("CellStarts");
  LAUNCH(CellRanges, GridFor(cells, kThreads), kThreads, 0, s, d_cell_key.get(), d_cell_start.get(), d_cell_x.get(), d_cell_y.get(), cells, g.nx,
         g.ny, d_range.get());
  MB_CHECK_LAUNCH("CellRanges");

  // Counts and core flags; a sqrt-tie anywhere hands the input back to the host.
  const Points P{d_coords.get(), n, dims};
  const double r2 = eps * eps, tie_bound = cpu::SqrtTieBound(eps);
  DeviceBuffer<uint8_t> d_core_sorted(n);
  DeviceBuffer<unsigned long long> d_ties(1);
  MB_CHECK(cudaMemsetAsync(d_ties.get(), 0, sizeof(unsigned long long), s));
  LAUNCH(CountKernel, grid, kThreads, 0, s, P, d_cell_of.get(), d_range.get(), r2, tie_bound, static_cast<long long>(min_samples),
         d_core_sorted.get(), d_ties.get());
  MB_CHECK_LAUNCH("CountKernel");
  unsigned long long ties = 0;
  d_ties.Download(&ties, 1, s);
  MB_CHECK(cudaStreamSynchronize(s));
  if (ties > 0) return -1;

  // Components of core points, numbered by their lowest input index; then every label.
  DeviceBuffer<int32_t> d_parent(n), d_root(n), d_lowest(n);
  LAUNCH(InitSets, grid, kThreads, 0, s, n, d_parent.get(), d_lowest.get());
  MB_CHECK_LAUNCH("InitSets");
  LAUNCH(UnionKernel, grid, kThreads, 0, s, P, d_cell_of.get(), d_range.get(), r2, d_core_sorted.get(), d_parent.get());
  MB_CHECK_LAUNCH("UnionKernel");
  LAUNCH(RootsKernel, grid, kThreads, 0, s, n, d_core_sorted.get(), d_order.get(), d_parent.get(), d_root.get(), d_lowest.get());
  MB_CHECK_LAUNCH("RootsKernel");
  DeviceBuffer<unsigned> d_number(n);
  LAUNCH(FirstKernel, grid, kThreads, 0, s, n, d_core_sorted.get(), d_order.get(), d_root.get(), d_lowest.get(), d_number.get());
  MB_CHECK_LAUNCH("FirstKernel");
  const size_t clusters = ScanLarge(d_number.get(), n, s);
  LAUNCH(LabelKernel, grid, kThreads, 0, s, P, d_cell_of.get(), d_range.get(), r2, d_core_sorted.get(), d_order.get(), d_root.get(),
         d_lowest.get(), d_number.get(), d_labels, d_core);
  MB_CHECK_LAUNCH("LabelKernel");
  MB_CHECK(cudaStreamSynchronize(s));
  return static_cast<int32_t>(clusters);
}

template int32_t DbscanOnDevice<double>(const double*, size_t, size_t, double, int64_t, int32_t*, uint8_t*, cudaStream_t);
template int32_t DbscanOnDevice<float>(const float*, size_t, size_t, double, int64_t, int32_t*, uint8_t*, cudaStream_t);

}  // namespace detail

namespace {

template <typename T>
int32_t DbscanHost(const T* points, const cpu::DbscanOptions& o, int32_t* labels, uint8_t* core) {
  cpu::CheckDbscanInput(points, o);
  if (o.n == 0) return 0;
  if (o.n <= cpu::kSklearnBruteMax) return cpu::Dbscan(points, o, labels, core);  // sklearn's brute force: host code
  cudaStream_t s = nullptr;
  detail::DeviceBuffer<T> d_points(o.n * o.dims);
  d_points.Upload(points, o.n * o.dims, s);
  detail::DeviceBuffer<int32_t> d_labels(o.n);
  detail::DeviceBuffer<uint8_t> d_core(o.n);
  const int32_t clusters = detail::DbscanOnDevice(d_points.get(), o.n, o.dims, o.eps, o.min_samples, d_labels.get(), d_core.get(), s);
  if (clusters < 0) return cpu::Dbscan(points, o, labels, core);  // sqrt-ties: sklearn's one-way decisions, host code
  d_labels.Download(labels, o.n, s);
  d_core.Download(core, o.n, s);
  MB_CHECK(cudaStreamSynchronize(s));
  return clusters;
}

}  // namespace

int32_t Dbscan(const double* points64, const float* points32, const cpu::DbscanOptions& o, int32_t* labels, uint8_t* core) {
  return points32 ? DbscanHost(points32, o, labels, core) : DbscanHost(points64, o, labels, core);
}

}  // namespace maskbox::cuda
