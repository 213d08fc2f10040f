// Dice's pixel counts (DESIGN.md "Dice"): per class of one image, |A ∩ B|, |A| and |B| of two
// [C, H, W] byte masks (non-zero = 1). Integer counts: identical on every backend; the score is formed
// on the host. Workgroup (x, y) counts 4 * WG bytes of class y; its totals go to the class's three
// counters with one atomic add each.

override WG: u32 = 64u;

struct Params {
  pixels: u32, // H * W
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> pred: array<u32>;
@group(0) @binding(2) var<storage, read> truth: array<u32>;
@group(0) @binding(3) var<storage, read_write> counts: array<atomic<u32>>;

var<workgroup> acc: array<atomic<u32>, 3>;

// 1 when byte k of the word array is non-zero.
fn bit(word: u32, k: u32) -> u32 {
  return select(0u, 1u, ((word >> ((k % 4u) * 8u)) & 0xffu) != 0u);
}

@compute @workgroup_size(WG)
fn count(@builtin(workgroup_id) wid: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let c = wid.y;
  let j0 = (wid.x * WG + lid) * 4u;
  var inter = 0u;
  var a = 0u;
  var b = 0u;
  for (var k = 0u; k < 4u; k++) {
    let j = j0 + k;
    if (j >= p.pixels) { break; }
    let g = c * p.pixels + j;
    let x = bit(pred[g / 4u], g);
    let y = bit(truth[g / 4u], g);
    inter += x & y;
    a += x;
    b += y;
  }
  if ((inter | a | b) != 0u) {
    atomicAdd(&acc[0], inter);
    atomicAdd(&acc[1], a);
    atomicAdd(&acc[2], b);
  }
  workgroupBarrier();
  if (lid == 0u) {
    atomicAdd(&counts[c * 3u], atomicLoad(&acc[0]));
    atomicAdd(&counts[c * 3u + 1u], atomicLoad(&acc[1]));
    atomicAdd(&counts[c * 3u + 2u], atomicLoad(&acc[2]));
  }
}
