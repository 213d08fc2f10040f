// DBSCAN's distance decisions and grid cells, shared by native/cpu (dbscan.cc) and native/cuda
// (dbscan.cu): one formula, so both make bit-identical neighbour / sqrt-tie decisions (float64, sums in
// dimension order as sklearn and src/backends/js/dbscan.ts; FMA contraction off: -ffp-contract=off,
// nvcc --fmad=false).
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

#include "iou_math.h"  // MB_HD

namespace maskbox::math {

/** Squared distance of 2-D points a and b: dx*dx + dy*dy (what the sum over dims gives for 2). */
MB_HD double SqDist2(double xa, double ya, double xb, double yb) {
  const double dx = xa - xb, dy = ya - yb;
  return dx * dx + dy * dy;
}

/** Squared distance summed in dimension order; coordinate k of a point is `stride` doubles after k-1. */
MB_HD double SqDistN(const double* a, const double* b, size_t dims, size_t stride) {
  double s = 0;
  for (size_t k = 0; k < dims; k++) {
    const double d = a[k * stride] - b[k * stride];
    s += d * d;
  }
  return s;
}

/** b is in a's neighbourhood (self included): squared distance <= eps*eps. */
MB_HD bool WithinEps(double sq, double r2) { return sq <= r2; }

/** A sqrt-tie pair (cpu/dbscanTies.h): outside eps*eps but sqrt(sq) <= eps (tie_bound = SqrtTieBound(eps)). */
MB_HD bool SqrtTie(double sq, double r2, double tie_bound) { return sq > r2 && sq <= tie_bound; }

/** The grid over the first two dims: cells of side eps * (1 + 2^-20), at most 2^26 per axis. */
struct DbscanGrid {
  double side = 1, min_x = 0, min_y = 0;
  int64_t nx = 1, ny = 1;
};

/**
 * The grid for points within [min_x, max_x] x [min_y, max_y] (pass 0, 0 for 1-D). The side grows for
 * extreme spreads (slower, never wrong); a spread beyond a double is one cell. The 2^-20 margin keeps
 * rounding from putting two points within eps, sqrt-ties included, two cells apart.
 */
inline DbscanGrid MakeDbscanGrid(double eps, double min_x, double max_x, double min_y, double max_y) {
  const double limit = 67108864.0;
  double side = eps * (1 + 0x1p-20);
  const double sx = (max_x - min_x) / limit, sy = (max_y - min_y) / limit;
  side = sx > side ? sx : side;
  side = sy > side ? sy : side;
  DbscanGrid g;
  g.side = side;
  g.min_x = min_x;
  g.min_y = min_y;
  if (std::isfinite(side)) {
    g.nx = static_cast<int64_t>(std::floor((max_x - min_x) / side)) + 1;
    g.ny = static_cast<int64_t>(std::floor((max_y - min_y) / side)) + 1;
  }
  return g;
}

/** The cell of coordinate v on an axis of `cells` cells from lo: in [0, cells - 1] (monotone rounding). */
MB_HD int64_t DbscanCell(double v, double lo, double side, int64_t cells) {
  if (cells <= 1) return 0;
  double c = floor((v - lo) / side);
  c = c < 1e18 ? c : 1e18;
  const int64_t i = static_cast<int64_t>(c);
  return i < 0 ? 0 : i > cells - 1 ? cells - 1 : i;
}

}  // namespace maskbox::math
