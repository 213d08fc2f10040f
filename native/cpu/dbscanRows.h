// DBSCAN's path for integer 2-D coordinates (pixels) that are too sparse for the raster
// (dbscanRaster.h): cost and memory proportional to the number of points, not their bounding box.
#pragma once

#include <cstdint>

#include "cpu/dbscan.h"

namespace maskbox::cpu {

/**
 * Points sorted in raster order (y, then x; input already in that order, as pixel lists usually are, is
 * not re-sorted). A point's neighbours in row y + dy (|dy| <= floor(eps)) are the points with
 * |dx| <= rx(dy), one contiguous range of sorted positions whose ends only move forward as the point
 * moves forward: two pointers per row offset, so a pass costs O(n * (2 floor(eps) + 1)) plus the
 * neighbours visited, whatever the bounding box. rx(dy) is decided with the grid path's double
 * comparison `dx*dx + dy*dy <= eps*eps` (exact for these integers). Same labels as the grid path.
 *
 * Returns false, having written nothing, when the input does not qualify: not 2-D, n <= 11, a
 * coordinate that is not an integer in [-2^30, 2^30], eps > 64, two points on one pixel, or an eps
 * whose offsets include sqrt-ties (dbscanTies.h).
 */
template <typename T>
bool DbscanRows(const T* points, const DbscanOptions& o, int32_t* labels, uint8_t* core, int32_t* clusters);

extern template bool DbscanRows<double>(const double*, const DbscanOptions&, int32_t*, uint8_t*, int32_t*);
extern template bool DbscanRows<float>(const float*, const DbscanOptions&, int32_t*, uint8_t*, int32_t*);

}  // namespace maskbox::cpu
