// Shared by the kernels that `// #include "opaque.wgsl"` (appended by scripts/gen-wgsl.mjs).
// Needs the kernel's uniform `p` with a field `never: u32` that the host always sets to 0.

// x, hidden from the shader compiler's algebra: WGSL lets it fuse a product into the addition that
// uses it (contraction) and reassociate, which would change the float32 rounding the reference has.
// The compiler cannot know that p.never is 0, so it cannot see through the select.
fn opaque(x: f32) -> f32 {
  return select(x, 0.0, p.never != 0u);
}
