// scikit-learn's boundary decisions for DBSCAN, in C++: the same rules as src/backends/js/dbscanTies.ts
// (read its header for why they exist). Plain C++, no N-API: dbscan.cc and fuzz/ call it.
//
// - n <= 11: sklearn's brute-force neighbourhoods, `max(0, (|x|^2 + -2 x.y) + |y|^2) <= r2` in float64
//   with sequential sums (r2 = eps*eps, or fl32(fl32(eps)^2) for float32 input).
// - n >= 12: pairs with `S > eps^2` but `sqrt(S) <= eps` ("sqrt-ties") are neighbours in the direction(s)
//   where sklearn's KD-tree (leaf_size 30) takes the neighbour's whole leaf: the far corner of that
//   leaf's box is within eps. Those neighbourhoods are not symmetric.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace maskbox::cpu {

/** sklearn chooses brute force for n <= this (NearestNeighbors' default n_neighbors 5 >= n // 2). */
constexpr size_t kSklearnBruteMax = 11;

/** Largest double u with sqrt(u) <= eps (eps finite > 0): pairs with eps^2 < S <= u are sqrt-ties. */
double SqrtTieBound(double eps);

/** Directed neighbourhoods (self included) as CSR: row i is adj[start[i] .. start[i+1]). */
struct Csr {
  std::vector<int32_t> start, adj;
};

/** sklearn's brute-force neighbourhoods for small n; `pts` is `[n * dims]` in the input's order. */
Csr BruteNeighbors(const double* pts, size_t dims, size_t n, double eps, bool float32);

/**
 * Decides sqrt-tie pairs (original indices, flat [p0, q0, p1, q1, ...], each unordered pair once) the
 * way sklearn's KD-tree does; returns the directed edges taken, flat [from, to, ...].
 */
std::vector<int32_t> ResolveSqrtTies(const double* pts, size_t dims, size_t n, const std::vector<int32_t>& pairs,
                                     double tie_bound);

}  // namespace maskbox::cpu
