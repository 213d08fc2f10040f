#!/usr/bin/python3
"""Goldens for the fused hand-bone post-process (logits -> bilinear -> sigmoid -> threshold -> RLE).

- sigmoid_cutoffs.json: for a table of thresholds t, torch's float32 logit cutoff: the largest float32
  x with `not (torch.sigmoid(x) > t)`, found by binary search over the float32 bit patterns and checked
  to be a clean step over +-3000 neighbouring floats. Two columns, because torch itself has two paths:
  `vector` (a tensor of 64 elements: AVX2 body, Sleef's 1-ulp expf) and `scalar` (a 1-element tensor:
  the scalar tail loop, glibc's expf). They differ by one float32 step at some thresholds (0.4, 0.6).
- torch_pipeline.json: small logits run through the competition's inference code:
  `F.interpolate(x, size=(H, W), mode='bilinear', align_corners=False)`, `torch.sigmoid`, `> t`, then
  its `encode_mask_to_rle` (numpy, row-major, 1-based `start length` pairs). C >= 2 so torch takes its
  NCHW kernel (which the JS resize reproduces bit for bit). Some cases hold values planted at the 0.5
  cutoff and its float32 neighbours, passed through unchanged by an axis whose size does not change.

Run: /usr/bin/python3 scripts/goldens/logitsToRle.py
"""
import json, os
import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(1)
OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'goldens', 'logitsToRle')
os.makedirs(OUT, exist_ok=True)
rs = np.random.RandomState(29)


def dump(name, obj):
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
    print(name, os.path.getsize(os.path.join(OUT, name)), 'bytes')


def f32list(a):
    return [float(repr(np.float32(x))) for x in np.asarray(a, dtype=np.float32).ravel()]


# The competition's encoder (boostcampaitech7 level2-cv-semanticsegmentation src/utils/rle_convert.py).
def encode_mask_to_rle(mask):
    pixels = mask.flatten()
    pixels = np.concatenate([[0], pixels, [0]])
    runs = np.where(pixels[1:] != pixels[:-1])[0] + 1
    runs[1::2] -= runs[::2]
    return ' '.join(str(x) for x in runs)


# ---------------------------------------------------------------- cutoffs
def from_key(k):
    """Ordered integer key -> float32 (keys increase with the float's value)."""
    b = k if k >= 0 else ((-k) | 0x80000000)
    return np.array([b], dtype=np.uint32).view(np.float32)[0]


def above(x, t, n):
    return bool((torch.sigmoid(torch.full((n,), float(x), dtype=torch.float32)) > t)[0])


def cutoff(t, n):
    lo, hi = -0x7f7fffff, 0x7f7fffff
    if not above(from_key(hi), t, n):
        return None  # never above: +infinity
    assert not above(from_key(lo), t, n)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if above(from_key(mid), t, n):
            hi = mid
        else:
            lo = mid
    keys = range(lo - 3000, lo + 3000)
    xs = np.array([from_key(k) for k in keys], dtype=np.float32)
    if n == 1:
        got = np.array([bool(torch.sigmoid(torch.from_numpy(xs[i:i + 1])) > t) for i in range(len(xs))])
    else:
        got = (torch.sigmoid(torch.from_numpy(xs)) > t).numpy()
    assert (got == (np.array(list(keys)) > lo)).all(), f'not a clean step at t={t} n={n}'
    return float(from_key(lo))


thresholds = [0.0, 1e-6, 0.001, 0.1, 0.25, 0.3, 0.4, 0.45, 0.5, 0.55, 0.6, 0.7, 0.75, 0.9, 0.99, 0.999, 0.9999999, 1.0]
dump('sigmoid_cutoffs.json', {
    'torch': torch.__version__,
    'cases': [{'threshold': t, 'vector': cutoff(t, 64), 'scalar': cutoff(t, 1)} for t in thresholds],
})

# ---------------------------------------------------------------- pipeline
C05 = np.float32(1.5 * 2 ** -24)  # the 0.5 cutoff
near = np.array([0, -0.0, C05, np.nextafter(C05, np.float32(1)), np.nextafter(C05, np.float32(0)), 1e-8, -1e-8,
                 2 * C05, C05 / 2], dtype=np.float32)

cases = []
for (C, h, w, H, W, t, kind) in [
    (3, 8, 8, 32, 32, 0.5, 'normal'),      # 4x upscale (512 -> 2048 in miniature)
    (2, 16, 12, 40, 50, 0.5, 'normal'),    # non-integer upscale
    (4, 20, 20, 7, 9, 0.3, 'normal'),      # downscale, another threshold
    (2, 9, 11, 30, 11, 0.5, 'near'),       # width unchanged: planted values reach the threshold as they are
    (2, 6, 9, 6, 9, 0.5, 'near'),          # identity
    (3, 10, 10, 37, 23, 0.7, 'blobs'),     # smooth blobs, runs that wrap rows
    (2, 4, 4, 16, 16, 0.5, 'wide'),        # large magnitudes
]:
    if kind == 'normal':
        x = rs.randn(C, h, w) * 3
    elif kind == 'near':
        x = rs.choice(near, size=(C, h, w))
        x[0, 0, :3] = [C05, np.nextafter(C05, np.float32(1)), 0]
    elif kind == 'blobs':
        yy, xx = np.mgrid[0:h, 0:w]
        x = np.stack([6 - ((yy - rs.uniform(0, h)) ** 2 + (xx - rs.uniform(0, w)) ** 2) / rs.uniform(2, 9) for _ in range(C)])
        x[:, :, -1] = 5  # last column on: runs continue into the next row
    else:
        x = rs.randn(C, h, w) * 1e4
    x = x.astype(np.float32)
    xt = torch.from_numpy(x)[None]
    up = F.interpolate(xt, size=(H, W), mode='bilinear', align_corners=False)
    mask = (torch.sigmoid(up) > t)[0].numpy().astype(np.uint8)
    cases.append({
        'shape': [C, h, w], 'size': [H, W], 'threshold': t, 'kind': kind,
        'logits': f32list(x),
        'rle': [encode_mask_to_rle(mask[c]) for c in range(C)],
        'areas': [int(mask[c].sum()) for c in range(C)],
    })
dump('torch_pipeline.json', {'torch': torch.__version__, 'cases': cases})
