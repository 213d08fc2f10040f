// DBSCAN core (no N-API: baseline.cc and fuzz/ call it). Semantics: DESIGN "Kernel contracts" / DBSCAN
// and src/backends/js/dbscan.ts, whose labels (scikit-learn's) this must equal point for point.
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>

namespace maskbox::cpu {

struct DbscanOptions {
  size_t n = 0;             // points
  size_t dims = 2;          // coordinates per point, >= 1 (the grid indexes the first two)
  double eps = 0.5;         // finite, > 0
  int64_t min_samples = 5;  // >= 1
  // Integer 2-D input may take a raster path (dbscanRaster.h) of 5 bytes per pixel of its bounding box
  // (+ margins), normally when that is at most 16n + 65536 pixels; a caller that holds an image already
  // (the baseline) allows this many pixels regardless.
  size_t raster_pixels = 0;
};

/**
 * Labels `[n]` (0.. in order of each cluster's lowest-index core point, -1 noise) and core flags `[n]`
 * for `points` `[n * dims]`, point-major. Returns the number of clusters. Throws std::invalid_argument
 * for a non-finite coordinate, n > INT32_MAX or dims == 0.
 *
 * Multi-threaded (pool::ParallelFor) over the cells of a grid with cells slightly wider than eps:
 * neighbour counts, a lock-free union of core points (unionFind.h), deterministic numbering, border
 * points. Integer 2-D coordinates (pixels) take a raster instead of the grid when dense (dbscanRaster.h),
 * sorted rows when sparse (dbscanRows.h: cost by points, not their bounding box); same passes. Inputs with sqrt-tie pairs (dbscanTies.h; with eps = 3 never integer data) and n <= 11 take
 * sklearn's own sequential labelling over its directed neighbourhoods instead, on one thread.
 */
template <typename T>
int32_t Dbscan(const T* points, const DbscanOptions& o, int32_t* labels, uint8_t* core);

extern template int32_t Dbscan<double>(const double*, const DbscanOptions&, int32_t*, uint8_t*);
extern template int32_t Dbscan<float>(const float*, const DbscanOptions&, int32_t*, uint8_t*);

/** Dbscan's argument checks (the same std::invalid_argument messages), for kernels on other devices. */
template <typename T>
void CheckDbscanInput(const T* points, const DbscanOptions& o);

extern template void CheckDbscanInput<double>(const double*, const DbscanOptions&);
extern template void CheckDbscanInput<float>(const float*, const DbscanOptions&);

/**
 * A kernel with Dbscan's contract for the shared binding (JsDbscanWith in dbscan.cc; the CUDA build
 * passes its own): exactly one of points64 / points32 is non-null.
 */
using DbscanKernel = int32_t (*)(const double* points64, const float* points32, const DbscanOptions& o, int32_t* labels,
                                 uint8_t* core);

/** The bounding box of 2-D points, as the integer-pixel paths (dbscanRaster.cc, dbscanRows.cc) need it. */
struct PixelBounds {
  double min_x, max_x, min_y, max_y;
};

/**
 * The bounds of n 2-D points when every coordinate is an integer of magnitude <= 2^30 (offsets, raster
 * indices and row keys then stay exact); false otherwise, and the caller declines to the general path.
 */
template <typename T>
bool IntegerPixelBounds(const T* pts, size_t n, PixelBounds* b) {
  constexpr double kMaxCoordinate = 0x1p30;
  double min_x = kMaxCoordinate, max_x = -kMaxCoordinate, min_y = kMaxCoordinate, max_y = -kMaxCoordinate;
  for (size_t i = 0; i < n; i++) {
    const double x = pts[2 * i], y = pts[2 * i + 1];
    if (!(std::fabs(x) <= kMaxCoordinate && std::fabs(y) <= kMaxCoordinate) || x != std::floor(x) || y != std::floor(y))
      return false;
    min_x = x < min_x ? x : min_x;
    max_x = x > max_x ? x : max_x;
    min_y = y < min_y ? y : min_y;
    max_y = y > max_y ? y : max_y;
  }
  *b = {min_x, max_x, min_y, max_y};
  return true;
}

}  // namespace maskbox::cpu
