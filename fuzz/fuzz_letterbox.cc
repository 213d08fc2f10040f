// Fuzzes the preprocessing kernels: letterbox (letterbox.cc: percentile stretch or per-channel levels, bilinear resize of
// 8/16-bit HWC pixels into a padded CHW float32 canvas) and the float32 bilinear resize (resize.cc).
// letterbox.cc is included whole so its internal entry points are reachable (MASKBOX_CORE_ONLY leaves out
// its N-API binding). Checks: no crash on any geometry the op accepts (1..48 px in, canvas 1..64, any
// pad offsets), every output finite, padding cells exactly the pad value, image cells inside the
// stretched range [0, 1] (within 1e-6); resize outputs lie between the min and max of their plane and an
// unchanged size copies bit for bit.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <vector>

#include "cpu/letterbox.cc"

namespace {

using maskbox::cpu::LetterboxParams;

template <typename T>
void FuzzLetterbox(const uint8_t* data, size_t size, size_t max_value) {
  if (size < 16) return;
  LetterboxParams o;
  o.width = data[0] % 48 + 1;
  o.height = data[1] % 48 + 1;
  const size_t ch[] = {1, 3, 4};
  o.channels = ch[data[2] % 3];
  o.out_width = data[3] % 64 + 1;
  o.out_height = data[4] % 64 + 1;
  o.new_width = data[5] % o.out_width + 1;
  o.new_height = data[6] % o.out_height + 1;
  o.left = data[7] % (o.out_width - o.new_width + 1);
  o.top = data[8] % (o.out_height - o.new_height + 1);
  o.pad = 114.0 / 255.0;
  o.stretch = data[9] & 1;
  o.q_low = 0.1, o.q_high = 99.9;
  for (size_t c = 0; c < 3; c++) {  // any levels, degenerate ones (high <= low) included
    o.level_low[c] = static_cast<double>(max_value) * data[10 + 2 * c] / 255.0;
    o.level_high[c] = static_cast<double>(max_value) * data[11 + 2 * c] / 255.0;
  }
  data += 16;
  size -= 16;
  const size_t n = o.width * o.height * o.channels;
  std::vector<T> px(n);
  for (size_t i = 0; i < n; i++) {
    size_t v = 0;
    for (size_t k = 0; k < sizeof(T) && size > 0; k++) v = (v << 8) | data[(i * sizeof(T) + k) % size];
    px[i] = static_cast<T>(v % (max_value + 1));
  }
  std::vector<float> out(3 * o.out_width * o.out_height, -1.0f);
  double low = 0, high = 0;
  maskbox::cpu::Letterbox(px.data(), n, o, out.data(), &low, &high);
  const float pad = static_cast<float>(o.pad);
  for (size_t c = 0; c < 3; c++)
    for (size_t y = 0; y < o.out_height; y++)
      for (size_t x = 0; x < o.out_width; x++) {
        const float v = out[(c * o.out_height + y) * o.out_width + x];
        const bool inside = y >= o.top && y < o.top + o.new_height && x >= o.left && x < o.left + o.new_width;
        if (!std::isfinite(v)) __builtin_trap();
        if (!inside && v != pad) __builtin_trap();
        if (inside && (v < -1e-6f || v > 1.0f + 1e-6f)) __builtin_trap();
      }
}

void FuzzResize(const uint8_t* data, size_t size) {
  if (size < 5) return;
  const size_t c = data[0] % 3 + 1, h = data[1] % 24 + 1, w = data[2] % 24 + 1;
  const bool same = data[3] & 1;
  const size_t H = same ? h : data[3] % 40 + 1, W = same ? w : data[4] % 40 + 1;
  data += 5;
  size -= 5;
  std::vector<float> in(c * h * w);
  for (size_t i = 0; i < in.size(); i++) in[i] = size ? static_cast<int8_t>(data[i % size]) / 8.0f : 0.0f;
  std::vector<float> out(c * H * W, NAN);
  const auto tx = maskbox::cpu::MakeTaps<float>(w, W), ty = maskbox::cpu::MakeTaps<float>(h, H);
  for (size_t p = 0; p < c; p++) maskbox::cpu::ResizeRows(in.data(), h, w, out.data(), H, W, tx, ty, p, 0, H);
  for (size_t p = 0; p < c; p++) {
    const float* src = in.data() + p * h * w;
    const auto [lo, hi] = std::minmax_element(src, src + h * w);
    for (size_t i = 0; i < H * W; i++) {
      const float v = out[p * H * W + i];
      if (!(v >= *lo - 1e-5f && v <= *hi + 1e-5f)) __builtin_trap();
      if (same && v != src[i]) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  switch (data[0] % 3) {
    case 0:
      FuzzLetterbox<uint8_t>(data + 1, size - 1, 255);
      break;
    case 1:
      FuzzLetterbox<uint16_t>(data + 1, size - 1, 65535);
      break;
    default:
      FuzzResize(data + 1, size - 1);
  }
  return 0;
}
