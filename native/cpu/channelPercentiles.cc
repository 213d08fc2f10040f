// channelPercentiles: numpy.percentile(channel samples, q) (method 'linear', float64) of each colour
// channel (alpha excluded) of an 8- or 16-bit HWC image, from per-channel histograms (channelPercentiles.h,
// counted on the pool) and histPercentile.h: channelPercentiles in src/backends/js/channelPercentiles.ts.
// JS: addon.channelPercentiles({ data, maxValue, channels, percentileLow, percentileHigh, low, high }) -> Promise<void>
// `data` is a Uint8Array when maxValue is 255, a Uint16Array when it is 65535; `low` and `high` are
// Float64Arrays of one entry per colour channel, allocated in JS and filled here.
#include "cpu/channelPercentiles.h"
#include "cpu/histPercentile.h"

namespace maskbox::cpu {
namespace {

template <typename T>
void ChannelPercentiles(const T* src, size_t n_samples, size_t channels, size_t max_value, double q_low, double q_high,
                        double* low, double* high) {
  const std::vector<uint64_t> hist = ChannelHistograms(src, n_samples, channels, max_value);
  const size_t bins = max_value + 1;
  const double pixels = static_cast<double>(n_samples / channels);
  for (size_t c = 0; c < ColourChannels(channels); c++) {
    HistogramPercentiles(hist.data() + c * bins, bins, pixels, q_low, q_high, low + c, high + c);
  }
}

}  // namespace
}  // namespace maskbox::cpu

#ifndef MASKBOX_CORE_ONLY
#include "common.h"

namespace maskbox::cpu {
namespace {

class ChannelPercentilesWorker : public Worker {
 public:
  using Worker::Worker;
  const void* data = nullptr;
  bool sixteen = false;
  size_t samples = 0, channels = 0;
  double q_low = 0, q_high = 100;
  View<double> low, high;

  void Run() override {
    if (sixteen) {
      ChannelPercentiles(static_cast<const uint16_t*>(data), samples, channels, 65535, q_low, q_high, low.data, high.data);
    } else {
      ChannelPercentiles(static_cast<const uint8_t*>(data), samples, channels, 255, q_low, q_high, low.data, high.data);
    }
  }
};

}  // namespace

Napi::Value JsChannelPercentiles(const Napi::CallbackInfo& info) {
  Args args(info, "channelPercentiles");
  auto w = std::make_unique<ChannelPercentilesWorker>(info.Env(), "channelPercentiles");
  const int64_t max_value = args.Integer("maxValue", 255, 65535);
  if (max_value != 255 && max_value != 65535) args.RangeFail("maxValue", "255 or 65535", std::to_string(max_value));
  w->channels = static_cast<size_t>(args.Integer("channels", 1, 4));
  if (w->channels == 2) args.RangeFail("channels", "1, 3 or 4", "2");
  w->q_low = args.Number("percentileLow", 0, 100);
  w->q_high = args.Number("percentileHigh", 0, 100);
  if (!(w->q_low < w->q_high)) args.RangeFail("percentileHigh", "a value above percentileLow", std::to_string(w->q_high));
  if (max_value == 255) {
    auto d = args.Uint8("data");
    w->samples = d.ElementLength();
    w->data = w->HoldConst(d).data;
  } else {
    auto d = args.Uint16("data");
    w->samples = d.ElementLength();
    w->data = w->HoldConst(d).data;
    w->sixteen = true;
  }
  args.MultipleOf("data", w->samples, w->channels, "whole pixels of channels samples");
  if (w->samples == 0) args.RangeFail("data", "at least one pixel", "length 0");
  const size_t colour = ColourChannels(w->channels);
  auto low = args.Float64("low");
  args.Length("low", low.ElementLength(), colour, "a Float64Array of one entry per colour channel");
  auto high = args.Float64("high");
  args.Length("high", high.ElementLength(), colour, "a Float64Array of one entry per colour channel");
  w->low = w->Hold(low);
  w->high = w->Hold(high);
  return Worker::Start(std::move(w));
}

}  // namespace maskbox::cpu
#endif  // MASKBOX_CORE_ONLY
