// DBSCAN on integer 2-D coordinates through a raster of point indices (see dbscanRaster.h).
#include "cpu/dbscanRaster.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <vector>

#include "cpu/dbscanTies.h"
#include "cpu/unionFind.h"
#include "pool.h"

namespace maskbox::cpu {
namespace {

constexpr double kMaxEps = 8;               // at most 17 x 17 offsets
constexpr size_t kGrain = size_t{1} << 13;  // points per ParallelFor chunk, at least
constexpr int kGather = 64;

}  // namespace

template <typename T>
bool DbscanRaster(const T* pts, const DbscanOptions& o, int32_t* labels, uint8_t* core_out, int32_t* clusters) {
  const size_t n = o.n;
  if (o.dims != 2 || n <= kSklearnBruteMax || !(o.eps <= kMaxEps)) return false;
  PixelBounds box;
  if (!IntegerPixelBounds(pts, n, &box)) return false;
  const double min_x = box.min_x, max_x = box.max_x, min_y = box.min_y, max_y = box.max_y;
  // Raster with a margin of R = floor(eps) pixels, so that every offset stays inside it.
  const int64_t r = static_cast<int64_t>(std::floor(o.eps));
  const int64_t w = static_cast<int64_t>(max_x - min_x) + 1 + 2 * r, h = static_cast<int64_t>(max_y - min_y) + 1 + 2 * r;
  const double area = static_cast<double>(w) * static_cast<double>(h);
  if (area > 16.0 * static_cast<double>(n) + 65536 && area > static_cast<double>(o.raster_pixels)) return false;

  // Offsets within eps (all, and the "later" half: below, or right on the same row), decided with the
  // grid path's arithmetic. Any sqrt-tie offset (eps^2 < S, sqrt(S) <= eps) sends the input there.
  const double r2 = o.eps * o.eps, tie_bound = SqrtTieBound(o.eps);
  std::vector<ptrdiff_t> within, later;
  for (int64_t dy = -r; dy <= r; dy++) {
    for (int64_t dx = -r; dx <= r; dx++) {
      const double fx = static_cast<double>(dx), fy = static_cast<double>(dy);
      const double s = fx * fx + fy * fy;
      if (s > r2) {
        if (s <= tie_bound) return false;
        continue;
      }
      within.push_back(static_cast<ptrdiff_t>(dy * w + dx));
      if (dy > 0 || (dy == 0 && dx > 0)) later.push_back(static_cast<ptrdiff_t>(dy * w + dx));
    }
  }

  // idx: the point on each pixel, or n (a sentinel whose core flag is 0). occ: 1 where a point is.
  const size_t pixels = static_cast<size_t>(w * h);
  const int32_t none = static_cast<int32_t>(n);
  std::vector<int32_t> idx(pixels, none);
  std::vector<uint8_t> occ(pixels, 0);
  std::vector<size_t> at(n);
  for (size_t i = 0; i < n; i++) {
    const size_t q = static_cast<size_t>(static_cast<int64_t>(pts[2 * i + 1] - min_y) + r) * static_cast<size_t>(w) +
                     static_cast<size_t>(static_cast<int64_t>(pts[2 * i] - min_x) + r);
    if (occ[q]) return false;  // duplicates: the grid path counts them
    occ[q] = 1;
    idx[q] = static_cast<int32_t>(i);
    at[i] = q;
  }

  std::vector<uint8_t> core(n + 1, 0);
  pool::ParallelFor(n, kGrain, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; i++) {
      const uint8_t* o0 = &occ[at[i]];
      int64_t k = 0;
      for (const ptrdiff_t d : within) k += o0[d];
      core[i] = k >= o.min_samples;
    }
  });

  UnionFind uf(n);
  pool::ParallelFor(n, kGrain, [&](size_t b, size_t e) {
    int32_t buf[kGather];
    for (size_t i = b; i < e; i++) {
      if (!core[i]) continue;
      const int32_t* i0 = &idx[at[i]];
      int32_t ra = static_cast<int32_t>(i);
      for (size_t t0 = 0; t0 < later.size(); t0 += kGather) {
        int m = 0;  // core points at the next offsets, gathered branch-free
        for (size_t t = t0, te = std::min(later.size(), t0 + kGather); t < te; t++) {
          const int32_t j = i0[later[t]];
          buf[m] = j;
          m += core[j];
        }
        for (int u = 0; u < m; u++)
          if (uf.Parent(buf[u]) != ra) ra = uf.Link(ra, buf[u]);
      }
    }
  });

  // A set's root is its lowest-index core point: numbering roots in index order numbers the clusters.
  std::vector<int32_t> cluster(n, -1);
  pool::ParallelFor(n, kGrain, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; i++)
      if (core[i]) cluster[i] = uf.Find(static_cast<int32_t>(i));  // the root, for now
  });
  int32_t k = 0;
  for (size_t i = 0; i < n; i++)
    if (core[i]) cluster[i] = cluster[i] == static_cast<int32_t>(i) ? k++ : cluster[cluster[i]];
  pool::ParallelFor(n, kGrain, [&](size_t b, size_t e) {
    for (size_t i = b; i < e; i++) {
      int32_t l = -1;
      if (core[i]) {
        l = cluster[i];
      } else {
        const int32_t* i0 = &idx[at[i]];
        for (const ptrdiff_t d : within) {
          const int32_t j = i0[d];
          if (core[j] && (l < 0 || cluster[j] < l)) l = cluster[j];
        }
      }
      labels[i] = l;
      core_out[i] = core[i];
    }
  });
  *clusters = k;
  return true;
}

template bool DbscanRaster<double>(const double*, const DbscanOptions&, int32_t*, uint8_t*, int32_t*);
template bool DbscanRaster<float>(const float*, const DbscanOptions&, int32_t*, uint8_t*, int32_t*);

}  // namespace maskbox::cpu
