// Shared by the kernels that `// #include "linear.wgsl"` (appended by scripts/gen-wgsl.mjs).
// Needs the kernel's `override WG` (its workgroup size).

// Linear invocation index of a 1-D kernel whose workgroups the host folded into 2-D
// (GpuContext.fold in src/backends/webgpu/context.ts).
fn linear(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * WG;
}
