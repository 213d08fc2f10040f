// YOLOv5/v6 letterbox (src/ops/letterbox.ts): uint8/uint16 HWC pixels -> [3, H, W] float32 CHW, the
// image bilinearly resized (half-pixel taps from the host's float64 linearTaps, weights rounded to
// f32), placed at (left, top), normalised `clamp((v - low[c]) / range[c], 0, 1)` with output channel
// c's levels (three (low, range) pairs from the host: per channel, or one stretch repeated), the rest `pad`.
// The reference computes each sample in float64 and rounds once; WGSL has no f64, so this kernel is
// float32 and is written so that its error scales with the local contrast, not the sample values:
// `v - low = (s00 - low) + wx1 (s01 - s00) + wy1 ((s10 - s00) + wx1 ((s11 - s10) - (s01 - s00)))`
// (differences of integer samples are exact; wx1, wy1 are the float64 weights rounded to f32), so
// each term carries a few f32 ulp of itself: within 1e-6 absolute of the reference whenever the
// neighbouring samples differ by less than ~2x the normalisation range (always for `v / maxValue`).
// A GPU may fuse the multiply-adds (WGSL allows it), which stays within that bound.
//   letterbox  one invocation per output pixel, all three planes

override WG: u32 = 64u;

struct Params {
  width: u32,      // input
  height: u32,
  channels: u32,   // 1 (grey, replicated), 3 or 4 (alpha ignored)
  wide: u32,       // 1: 16-bit samples (two per u32 word), 0: 8-bit (four per word)
  new_w: u32,      // resized image, placed at (left, top)
  new_h: u32,
  left: u32,
  top: u32,
  out_w: u32,
  out_h: u32,
  pad: f32,        // already normalised
  // Per output channel (R, G, B): low as f32 and what that rounding left out (low = low + low_rest),
  // and high - low (1 when high <= low).
  low_r: f32,
  low_g: f32,
  low_b: f32,
  low_rest_r: f32,
  low_rest_g: f32,
  low_rest_b: f32,
  range_r: f32,
  range_g: f32,
  range_b: f32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pixels: array<u32>;
@group(0) @binding(2) var<storage, read> taps_y: array<vec2<u32>>;
@group(0) @binding(3) var<storage, read> weights_y: array<f32>;
@group(0) @binding(4) var<storage, read> taps_x: array<vec2<u32>>;
@group(0) @binding(5) var<storage, read> weights_x: array<f32>;
@group(0) @binding(6) var<storage, read_write> out: array<f32>;

// #include "linear.wgsl": linear(gid, nwg), the invocation index of a folded 1-D dispatch

// Sample k of the HWC array, as f32 (exact: at most 16 bits).
fn sample(k: u32) -> f32 {
  if (p.wide != 0u) { return f32((pixels[k / 2u] >> ((k % 2u) * 16u)) & 0xffffu); }
  return f32((pixels[k / 4u] >> ((k % 4u) * 8u)) & 0xffu);
}

// One output value of channel offset ch: bilinear (width first, then height), normalised with that
// channel's (low, low_rest, range), clamped. (wx, wy: the second tap's weight of each axis; see the
// header for the form.)
fn value(r0: u32, r1: u32, c0: u32, c1: u32, wx: f32, wy: f32, ch: u32, low: f32, low_rest: f32, range: f32) -> f32 {
  let s00 = sample(r0 + c0 + ch);
  let s01 = sample(r0 + c1 + ch);
  let s10 = sample(r1 + c0 + ch);
  let s11 = sample(r1 + c1 + ch);
  let dx0 = s01 - s00;
  let v = (((s00 - low) - low_rest) + wx * dx0) + wy * ((s10 - s00) + wx * ((s11 - s10) - dx0));
  return clamp(v / range, 0.0, 1.0);
}

@compute @workgroup_size(WG)
fn letterbox(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = linear(gid, nwg);
  let plane = p.out_w * p.out_h;
  if (i >= plane) { return; }
  let oy = i / p.out_w;
  let ox = i % p.out_w;
  if (oy < p.top || oy >= p.top + p.new_h || ox < p.left || ox >= p.left + p.new_w) {
    out[i] = p.pad;
    out[plane + i] = p.pad;
    out[2u * plane + i] = p.pad;
    return;
  }
  let y = oy - p.top;
  let x = ox - p.left;
  let ty = taps_y[y];
  let tx = taps_x[x];
  let row = p.width * p.channels;
  let r0 = ty.x * row;
  let r1 = ty.y * row;
  let c0 = tx.x * p.channels;
  let c1 = tx.y * p.channels;
  let wx = weights_x[x];
  let wy = weights_y[y];
  let red = value(r0, r1, c0, c1, wx, wy, 0u, p.low_r, p.low_rest_r, p.range_r);
  var green = red;
  var blue = red;
  if (p.channels > 1u) {
    green = value(r0, r1, c0, c1, wx, wy, 1u, p.low_g, p.low_rest_g, p.range_g);
    blue = value(r0, r1, c0, c1, wx, wy, 2u, p.low_b, p.low_rest_b, p.range_b);
  }
  out[i] = red;
  out[plane + i] = green;
  out[2u * plane + i] = blue;
}
