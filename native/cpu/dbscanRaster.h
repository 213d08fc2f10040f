// DBSCAN's fast path for integer 2-D coordinates (pixels), used by Dbscan() (dbscan.h) when it applies.
#pragma once

#include <cstdint>

#include "cpu/dbscan.h"

namespace maskbox::cpu {

/**
 * The points are drawn into a raster, and a point's neighbourhood is a fixed list of pixel offsets
 * (dx, dy) with `dx*dx + dy*dy <= eps*eps` — the grid path's own double comparison, exact for these
 * integers — so no distance is computed: counts are sums of occupancy bytes, the union and border
 * passes look up the point index at each offset. Same labels as the grid path (DESIGN's definition);
 * the union-find works on input indices, so a set's root is its lowest-index core point.
 *
 * Returns false, having written nothing, when the input does not qualify, and the caller takes the
 * grid path: not 2-D, n <= 11, a coordinate that is not an integer in [-2^30, 2^30], eps > 8, two
 * points on one pixel, a bounding box (with margins) above max(16n + 65536, o.raster_pixels) pixels, or
 * an eps whose offsets include sqrt-ties (`eps*eps` rounding just below a sum of two squares, e.g.
 * eps = sqrt(13): offsets (2, 3) are ties; dbscanTies.h).
 */
template <typename T>
bool DbscanRaster(const T* points, const DbscanOptions& o, int32_t* labels, uint8_t* core, int32_t* clusters);

extern template bool DbscanRaster<double>(const double*, const DbscanOptions&, int32_t*, uint8_t*, int32_t*);
extern template bool DbscanRaster<float>(const float*, const DbscanOptions&, int32_t*, uint8_t*, int32_t*);

}  // namespace maskbox::cpu
