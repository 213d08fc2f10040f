// The DBSCAN baseline's fixed 3x3 filter chain on the CPU (no N-API: baseline.cc and fuzz/ call it).
// Semantics: src/backends/js/filter3x3.ts, which this equals pixel for pixel.
#pragma once

#include <cstddef>
#include <cstdint>

namespace maskbox::cpu {

/**
 * Runs the chain on an HWC uint8 image (channels 1, 3 or 4; a 4th is ignored; grey counts as R = G = B)
 * and writes the final binary mask `[height * width]` (0/1). Pass 1: `9 * s + box3(s) > t0` with s the
 * RGB sum and t0 = 11 * 255 (`unit`, values /255) or 11 (raw) — the exact integer decision, so a
 * convolution exactly at 0 drops the pixel. Passes 2..`passes`: a pixel stays on when it and >= 2 of
 * its 8 neighbours are on. Zero padding, same size. Multi-threaded over bands of rows; all passes of a
 * band run while it is in cache (each band recomputes `passes - 1` halo rows on either side).
 * Throws std::invalid_argument for channels other than 1/3/4 or passes < 1.
 */
void BaselineFilter(const uint8_t* data, size_t width, size_t height, int channels, int passes, bool unit,
                    uint8_t* mask);

}  // namespace maskbox::cpu
