// Histograms of the colour channels of integer HWC samples, counted in chunks on the shared pool and
// summed (channelHistograms in src/backends/js/channelPercentiles.ts): per channel for channelPercentiles.cc,
// summed over the channels for letterbox.cc's pooled percentile stretch. Percentiles from a histogram:
// histPercentile.h.
#pragma once

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <vector>

#include "pool.h"

namespace maskbox::cpu {

/** Colour channels of an image of `channels` channels: alpha excluded (1 for grey, 3 for RGB and RGBA). */
inline size_t ColourChannels(size_t channels) { return channels == 4 ? 3 : channels; }

/**
 * Histograms of the colour channels (alpha skipped) of `n_samples` HWC samples of `channels` channels
 * with values in [0, max_value]: ColourChannels(channels) * (max_value + 1) counts, channel c's in
 * [c * bins, (c + 1) * bins).
 */
template <typename T>
std::vector<uint64_t> ChannelHistograms(const T* src, size_t n_samples, size_t channels, size_t max_value) {
  const size_t colour = ColourChannels(channels);
  const size_t pixels = n_samples / channels;
  const size_t bins = max_value + 1;
  // Per-chunk histograms (uint32: a chunk is far below 2^32 pixels), summed: ParallelFor hands out at
  // most ~4 chunks per thread.
  std::vector<std::vector<uint32_t>> parts;
  std::mutex mu;
  pool::ParallelFor(pixels, size_t{1} << 18, [&](size_t begin, size_t end) {
    std::vector<uint32_t> hist(colour * bins, 0);
    for (size_t p = begin; p < end; p++) {
      const T* px = src + p * channels;
      for (size_t c = 0; c < colour; c++) hist[c * bins + px[c]]++;
    }
    std::lock_guard<std::mutex> lock(mu);
    parts.push_back(std::move(hist));
  });
  std::vector<uint64_t> hist(colour * bins, 0);
  for (const auto& part : parts)
    for (size_t i = 0; i < hist.size(); i++) hist[i] += part[i];
  return hist;
}

}  // namespace maskbox::cpu
