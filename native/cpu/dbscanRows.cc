// DBSCAN on sparse integer 2-D coordinates: sorted rows and two pointers per row offset (dbscanRows.h).
#include "cpu/dbscanRows.h"

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <utility>
#include <vector>

#include "cpu/dbscanTies.h"
#include "cpu/unionFind.h"
#include "pool.h"

namespace maskbox::cpu {
namespace {

constexpr double kMaxEps = 64;              // at most 129 row offsets per point
constexpr size_t kGrain = size_t{1} << 13;  // points per ParallelFor chunk, at least

struct Rows {
  size_t n = 0;
  int64_t width = 0, height = 0;  // of the bounding box
  std::vector<int64_t> key;       // sorted: y * width + x (relative), strictly increasing
  std::vector<int32_t> order;     // sorted position -> input index (empty: the identity)
  int64_t r = 0;                  // floor(eps): row offsets -r..r
  std::vector<int64_t> rx;        // [2r + 1]: the largest |dx| within eps at dy = index - r, or -1
  // Occupancy bits of the bounding box with a margin of r on every side, rows padded to whole words,
  // and the set bits before each word: the sorted position of a pixel is rank + popcount, so a row
  // range's [lo, hi) takes two lookups and no search. Empty when too large (pointer walk instead).
  std::vector<uint64_t> bits;
  std::vector<int32_t> rank;
  int64_t stride = 0;  // words per bitmap row
};

// The bitmap is used while it costs at most this many bytes per point (0.19 bytes per pixel of the
// box: 5 % cover of a frame is ~4 bytes a point); sparser inputs walk pointers (cost by points only).
constexpr double kBitmapBytesPerPoint = 32;

/** Set bits before bit q of the bitmap: the number of points before that pixel in raster order. */
inline int32_t Before(const Rows& g, int64_t q) {
  const uint64_t word = g.bits[static_cast<size_t>(q >> 6)];
  return g.rank[static_cast<size_t>(q >> 6)] +
         static_cast<int32_t>(__builtin_popcountll(word & ((uint64_t{1} << (q & 63)) - 1)));
}

/**
 * Calls fn(a, dy, lo, hi) for every sorted position a in [b, e) and row offset dy in [dy0, dy1]: the
 * points within eps of a in row ya + dy are the sorted positions [lo, hi). Two pointers per offset,
 * placed by binary search at b and then only moved forward (the range's ends are monotone in a).
 */
template <typename Fn>
void ForRanges(const Rows& g, size_t b, size_t e, int64_t dy0, int64_t dy1, Fn&& fn) {
  const int64_t w = g.width, h = g.height;
  const int64_t* key = g.key.data();
  const int64_t n = static_cast<int64_t>(g.n);
  const int64_t offsets = dy1 - dy0 + 1;
  if (!g.bits.empty()) {
    const int64_t row_bits = 64 * g.stride;
    int64_t y = key[b] / w, row_end = (y + 1) * w;  // the point's row, without a division per point
    for (size_t a = b; a < e; a++) {
      while (key[a] >= row_end) row_end = (++y + 1) * w;
      const int64_t x = key[a] - y * w;
      for (int64_t dy = dy0; dy <= dy1; dy++) {
        const int64_t rx = g.rx[dy + g.r];
        if (rx < 0) continue;
        const int64_t q = (y + dy + g.r) * row_bits + x + g.r;  // margins: never outside the bitmap
        fn(a, dy, Before(g, q - rx), Before(g, q + rx + 1));
      }
    }
    return;
  }
  std::vector<int64_t> lo(offsets), hi(offsets);
  // Key range [*klo, *khi] of row y + dy within rx(dy) of column x; false when the row is empty or outside.
  const auto bounds = [&](int64_t y, int64_t x, int64_t dy, int64_t* klo, int64_t* khi) {
    const int64_t rx = g.rx[dy + g.r];
    y += dy;
    if (y < 0 || y >= h || rx < 0) return false;
    *klo = y * w + std::max<int64_t>(0, x - rx);
    *khi = y * w + std::min<int64_t>(w - 1, x + rx);
    return true;
  };
  {
    const int64_t y = key[b] / w, x = key[b] % w;
    for (int64_t t = 0; t < offsets; t++) {
      int64_t klo = 0, khi = 0;
      if (!bounds(y, x, dy0 + t, &klo, &khi)) klo = khi = (y + dy0 + t) * w;  // a valid start
      lo[t] = std::lower_bound(key, key + n, klo) - key;
      hi[t] = lo[t];
    }
  }
  int64_t y = key[b] / w, row_end = (y + 1) * w;  // the point's row, updated without a division per point
  for (size_t a = b; a < e; a++) {
    if (key[a] >= row_end) {
      y = key[a] / w;
      row_end = (y + 1) * w;
    }
    const int64_t x = key[a] - y * w;
    for (int64_t t = 0; t < offsets; t++) {
      int64_t klo, khi;
      if (!bounds(y, x, dy0 + t, &klo, &khi)) continue;
      int64_t l = lo[t], u = std::max(hi[t], l);
      while (l < n && key[l] < klo) l++;
      if (u < l) u = l;
      while (u < n && key[u] <= khi) u++;
      lo[t] = l;
      hi[t] = u;
      fn(a, dy0 + t, static_cast<int32_t>(l), static_cast<int32_t>(u));
    }
  }
}

}  // namespace

template <typename T>
bool DbscanRows(const T* pts, const DbscanOptions& o, int32_t* labels, uint8_t* core_out, int32_t* clusters) {
  const size_t n = o.n;
  if (o.dims != 2 || n <= kSklearnBruteMax || !(o.eps <= kMaxEps)) return false;
  PixelBounds box;
  if (!IntegerPixelBounds(pts, n, &box)) return false;
  const double min_x = box.min_x, max_x = box.max_x, min_y = box.min_y, max_y = box.max_y;
  Rows g;
  g.n = n;
  g.width = static_cast<int64_t>(max_x - min_x) + 1;
  g.height = static_cast<int64_t>(max_y - min_y) + 1;
  g.r = static_cast<int64_t>(std::floor(o.eps));

  // Row half-widths, with the grid path's arithmetic; a sqrt-tie offset sends the input there.
  const double r2 = o.eps * o.eps, tie_bound = SqrtTieBound(o.eps);
  g.rx.assign(static_cast<size_t>(2 * g.r + 1), -1);
  for (int64_t dy = -g.r; dy <= g.r; dy++) {
    for (int64_t dx = 0; dx <= g.r; dx++) {
      const double fx = static_cast<double>(dx), fy = static_cast<double>(dy);
      const double s = fx * fx + fy * fy;
      if (s > r2) {
        if (s <= tie_bound) return false;
        continue;
      }
      g.rx[static_cast<size_t>(dy + g.r)] = dx;  // s grows with dx: the last one within eps
    }
  }

  // Keys in input order; sort only when the input is not in raster order already.
  g.key.resize(n);
  bool sorted = true;
  for (size_t i = 0; i < n; i++) {
    g.key[i] = static_cast<int64_t>(pts[2 * i + 1] - min_y) * g.width + static_cast<int64_t>(pts[2 * i] - min_x);
    if (i > 0 && g.key[i] <= g.key[i - 1]) sorted = false;
  }
  if (!sorted) {
    std::vector<std::pair<int64_t, int32_t>> kv(n);
    for (size_t i = 0; i < n; i++) kv[i] = {g.key[i], static_cast<int32_t>(i)};
    std::sort(kv.begin(), kv.end());
    g.order.resize(n);
    for (size_t p = 0; p < n; p++) {
      if (p > 0 && kv[p].first == kv[p - 1].first) return false;  // duplicates: the grid path counts them
      g.key[p] = kv[p].first;
      g.order[p] = kv[p].second;
    }
  }
  // The bitmap, when small enough (see kBitmapBytesPerPoint).
  g.stride = (g.width + 2 * g.r + 64) / 64;  // + 1 bit: q + rx + 1 stays inside the row's words
  const double words = static_cast<double>(g.stride) * static_cast<double>(g.height + 2 * g.r);
  if (words * 12 <= kBitmapBytesPerPoint * static_cast<double>(n)) {
    g.bits.assign(static_cast<size_t>(words) + 1, 0);
    for (size_t p = 0; p < n; p++) {
      const int64_t q = (g.key[p] / g.width + g.r) * 64 * g.stride + g.key[p] % g.width + g.r;
      g.bits[static_cast<size_t>(q >> 6)] |= uint64_t{1} << (q & 63);
    }
    g.rank.resize(g.bits.size());
    int32_t run = 0;
    for (size_t k = 0; k < g.bits.size(); k++) {
      g.rank[k] = run;
      run += static_cast<int32_t>(__builtin_popcountll(g.bits[k]));
    }
  }
  const auto input = [&](size_t p) -> size_t { return g.order.empty() ? p : static_cast<size_t>(g.order[p]); };

  // Neighbour counts (self included) -> core flags, by sorted position.
  std::vector<uint8_t> core(n);
  pool::ParallelFor(n, kGrain, [&](size_t b, size_t e) {
    std::vector<int32_t> count(e - b, 0);
    ForRanges(g, b, e, -g.r, g.r, [&](size_t a, int64_t, int32_t lo, int32_t hi) { count[a - b] += hi - lo; });
    for (size_t a = b; a < e; a++) core[a] = count[a - b] >= o.min_samples;
  });

  // Union of core points within eps, each pair once: later positions in the same row, rows below.
  UnionFind uf(n);
  pool::ParallelFor(n, kGrain, [&](size_t b, size_t e) {
    ForRanges(g, b, e, 0, g.r, [&](size_t a, int64_t dy, int32_t lo, int32_t hi) {
      if (!core[a]) return;
      const int32_t ia = static_cast<int32_t>(a);
      int32_t ra = ia;
      for (int32_t q = dy == 0 ? ia + 1 : lo; q < hi; q++)
        if (core[q] && uf.Parent(q) != ra) ra = uf.Link(ra, q);
    });
  });

  // Clusters numbered in order of their lowest-index core point (input order).
  std::vector<int32_t> root(n, -1), cluster(n, -1);
  pool::ParallelFor(n, size_t{1} << 14, [&](size_t b, size_t e) {
    for (size_t a = b; a < e; a++)
      if (core[a]) root[a] = uf.Find(static_cast<int32_t>(a));
  });
  std::vector<int32_t> pos;
  if (!g.order.empty()) {
    pos.resize(n);
    for (size_t p = 0; p < n; p++) pos[g.order[p]] = static_cast<int32_t>(p);
  }
  int32_t k = 0;
  for (size_t i = 0; i < n; i++) {
    const size_t a = pos.empty() ? i : static_cast<size_t>(pos[i]);
    if (core[a] && cluster[root[a]] < 0) cluster[root[a]] = k++;
  }
  // Labels: core points their cluster; border points the smallest cluster among their core neighbours.
  pool::ParallelFor(n, kGrain, [&](size_t b, size_t e) {
    std::vector<int32_t> border(e - b, -1);
    ForRanges(g, b, e, -g.r, g.r, [&](size_t a, int64_t, int32_t lo, int32_t hi) {
      if (core[a]) return;
      int32_t& l = border[a - b];
      for (int32_t q = lo; q < hi; q++)
        if (core[q] && (l < 0 || cluster[root[q]] < l)) l = cluster[root[q]];
    });
    for (size_t a = b; a < e; a++) {
      labels[input(a)] = core[a] ? cluster[root[a]] : border[a - b];
      core_out[input(a)] = core[a];
    }
  });
  *clusters = k;
  return true;
}

template bool DbscanRows<double>(const double*, const DbscanOptions&, int32_t*, uint8_t*, int32_t*);
template bool DbscanRows<float>(const float*, const DbscanOptions&, int32_t*, uint8_t*, int32_t*);

}  // namespace maskbox::cpu
