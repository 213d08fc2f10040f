// scikit-learn's boundary decisions for DBSCAN (see dbscanTies.h and src/backends/js/dbscanTies.ts,
// which this follows rule for rule: the same arithmetic in the same order, so the same doubles).
#include "cpu/dbscanTies.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace maskbox::cpu {

double SqrtTieBound(double eps) {
  double u = eps * eps;
  if (!std::isfinite(u)) return std::numeric_limits<double>::infinity();
  for (int i = 0; i < 64; i++) {
    const double next = std::nextafter(u, std::numeric_limits<double>::infinity());
    if (std::sqrt(next) <= eps) u = next;
    else break;
  }
  return u;
}

namespace {

// Math.fround(eps) without the undefined behaviour of casting an out-of-range double to float: at or
// above FLT_MAX + half an ulp it rounds (to even) to infinity.
float RoundToFloat(double v) {
  if (v >= 0x1.ffffffp127) return std::numeric_limits<float>::infinity();
  return static_cast<float>(v);
}

// The KD-tree sklearn builds (leaf_size 30): node i has children 2i+1, 2i+2; a node splits on the
// dimension of largest spread (first on ties) into the floor(m/2) smallest points by (value, index)
// and the rest. Only each point's leaf and the leaves' boxes matter. The split is a strict total order
// on (value, index), so which points go left does not depend on the selection algorithm.
struct KdLeaves {
  const double* pts;
  size_t dims;
  size_t nodes;
  std::vector<int32_t> idx, leaf_of;
  std::vector<double> lo, hi;

  KdLeaves(const double* p, size_t d, size_t n, size_t leaf_size) : pts(p), dims(d), idx(n), leaf_of(n) {
    const size_t m = std::max<size_t>(1, n > 0 ? (n - 1) / leaf_size : 0);
    size_t levels = 0;
    for (size_t v = m; v > 0; v >>= 1) levels++;  // bit length of m = floor(log2 m) + 1
    nodes = (size_t{1} << levels) - 1;
    lo.assign(nodes * dims, 0.0);
    hi.assign(nodes * dims, 0.0);
    for (size_t i = 0; i < n; i++) idx[i] = static_cast<int32_t>(i);
    Build(0, 0, n);
  }

  void Range(size_t s, size_t e, size_t k, double* mn, double* mx) const {
    *mn = std::numeric_limits<double>::infinity();
    *mx = -std::numeric_limits<double>::infinity();
    for (size_t p = s; p < e; p++) {
      const double v = pts[static_cast<size_t>(idx[p]) * dims + k];
      if (v < *mn) *mn = v;
      if (v > *mx) *mx = v;
    }
  }

  void Build(size_t node, size_t s, size_t e) {  // depth <= levels (< 32)
    if (2 * node + 1 >= nodes || e - s < 2) {
      for (size_t k = 0; k < dims; k++) Range(s, e, k, &lo[node * dims + k], &hi[node * dims + k]);
      for (size_t p = s; p < e; p++) leaf_of[idx[p]] = static_cast<int32_t>(node);
      return;
    }
    size_t split = 0;
    double max_spread = 0;
    for (size_t k = 0; k < dims; k++) {
      double mn, mx;
      Range(s, e, k, &mn, &mx);
      if (mx - mn > max_spread) {
        max_spread = mx - mn;
        split = k;
      }
    }
    const size_t half = (e - s) >> 1;
    const double* base = pts + split;
    const size_t d = dims;
    std::nth_element(idx.begin() + s, idx.begin() + s + half, idx.begin() + e, [base, d](int32_t a, int32_t b) {
      const double va = base[static_cast<size_t>(a) * d], vb = base[static_cast<size_t>(b) * d];
      return va < vb || (va == vb && a < b);
    });
    Build(2 * node + 1, s, s + half);
    Build(2 * node + 2, s + half, e);
  }

  // The far corner of `leaf`'s box is within eps of point p (sklearn then takes the whole leaf).
  bool Within(size_t p, size_t leaf, double tie_bound) const {
    double u = 0;
    for (size_t k = 0; k < dims; k++) {
      const double v = pts[p * dims + k];
      const double m = std::max(std::fabs(v - lo[leaf * dims + k]), std::fabs(v - hi[leaf * dims + k]));
      u += m * m;
    }
    return u <= tie_bound;
  }
};

}  // namespace

Csr BruteNeighbors(const double* pts, size_t dims, size_t n, double eps, bool float32) {
  const float e32 = RoundToFloat(eps);
  const float r2f = e32 * e32;  // float32 product, as sklearn's float32 path (exact in double, then rounded once)
  const double r2 = float32 ? static_cast<double>(r2f) : eps * eps;
  std::vector<double> norm(n);
  for (size_t i = 0; i < n; i++) {
    double s = 0;
    for (size_t k = 0; k < dims; k++) s += pts[i * dims + k] * pts[i * dims + k];
    norm[i] = s;
  }
  Csr g;
  g.start.assign(n + 1, 0);
  for (size_t i = 0; i < n; i++) {
    for (size_t j = 0; j < n; j++) {
      double dot = 0;
      for (size_t k = 0; k < dims; k++) dot += pts[i * dims + k] * pts[j * dims + k];
      double d2 = norm[i] + -2.0 * dot + norm[j];
      if (d2 < 0) d2 = 0;  // Math.max(0, d2): a NaN (inf - inf on huge coordinates) stays NaN, never a neighbour
      if (d2 <= r2) g.adj.push_back(static_cast<int32_t>(j));
    }
    g.start[i + 1] = static_cast<int32_t>(g.adj.size());
  }
  return g;
}

std::vector<int32_t> ResolveSqrtTies(const double* pts, size_t dims, size_t n, const std::vector<int32_t>& pairs,
                                     double tie_bound) {
  const KdLeaves tree(pts, dims, n, 30);
  std::vector<int32_t> edges;
  for (size_t t = 0; t + 1 < pairs.size(); t += 2) {
    const int32_t p = pairs[t], q = pairs[t + 1];
    if (tree.Within(p, tree.leaf_of[q], tie_bound)) edges.insert(edges.end(), {p, q});
    if (tree.Within(q, tree.leaf_of[p], tie_bound)) edges.insert(edges.end(), {q, p});
  }
  return edges;
}

}  // namespace maskbox::cpu
