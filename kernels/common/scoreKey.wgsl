// Shared by the kernels that `// #include "scoreKey.wgsl"` (appended by scripts/gen-wgsl.mjs):
// kernels/nms.wgsl's sort and kernels/yoloNms.wgsl's decode make the same keys.

// Sort key: ascending order of keys = score descending (-0 counts as +0); ties broken by index.
fn score_key(s: f32) -> u32 {
  let x = select(s, 0.0, s == 0.0);
  let b = bitcast<u32>(x);
  let ordered = select(b | 0x80000000u, ~b, (b & 0x80000000u) != 0u);
  return ~ordered;
}
