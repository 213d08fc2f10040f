#!/usr/bin/python3
"""Goldens for RLE (row-major competition string, column-major Kaggle order='F', COCO counts and
compressed string) and the competition's Dice, from numpy.

The row-major encoder is the competition's encode_mask_to_rle, line by line; column-major is the same
on mask.flatten(order='F'); COCO counts follow pycocotools' documented rleEncode (column-major,
alternating runs starting with 0s, last run always written) and rleToString (6-bit LEB128-like, counts
delta-coded from index 3 on) -- pycocotools itself is not installed here.
Dice is (2|A.B| + 1e-4) / (|A| + |B| + 1e-4) per image per class, mean over images then classes.
Run: /usr/bin/python3 scripts/goldens/dice.py"""
import json, os
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'goldens', 'rle')
os.makedirs(OUT, exist_ok=True)
rs = np.random.RandomState(2024)


def encode_mask_to_rle(mask):
    # the competition's encoder (boostcampaitech7 hand-bone, src/utils/rle_convert.py)
    pixels = mask.flatten()
    pixels = np.concatenate([[0], pixels, [0]])
    runs = np.where(pixels[1:] != pixels[:-1])[0] + 1
    runs[1::2] -= runs[::2]
    return ' '.join(str(x) for x in runs)


def encode_col(mask):
    return encode_mask_to_rle(mask.flatten(order='F'))


def coco_counts(mask):
    p = mask.flatten(order='F').astype(np.int64)
    n = p.size
    if n == 0:
        return [0]
    change = np.flatnonzero(p[1:] != p[:-1]) + 1
    bounds = np.concatenate([[0], change, [n]])
    counts = np.diff(bounds).tolist()
    if p[0] == 1:
        counts = [0] + counts
    return [int(c) for c in counts]


def coco_string(counts):
    s = []
    for i, x in enumerate(counts):
        if i > 2:
            x -= counts[i - 2]
        more = True
        while more:
            c = x & 0x1f
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            s.append(chr(c + 48))
    return ''.join(s)


def random_mask(h, w, kind):
    if kind == 'empty':
        return np.zeros((h, w), np.uint8)
    if kind == 'full':
        return np.ones((h, w), np.uint8)
    if kind == 'noise':
        return (rs.rand(h, w) < rs.uniform(0.2, 0.8)).astype(np.uint8)
    # blobs: a few ellipses and rectangles, like bones
    m = np.zeros((h, w), np.uint8)
    yy, xx = np.mgrid[0:h, 0:w]
    for _ in range(rs.randint(1, 4)):
        cy, cx = rs.uniform(0, h), rs.uniform(0, w)
        ry, rx = rs.uniform(0.5, h / 2 + 1), rs.uniform(0.5, w / 2 + 1)
        m |= (((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 <= 1).astype(np.uint8)
    return m


def rows(m):
    return [''.join(str(int(v)) for v in r) for r in m]


def describe(name, m):
    return {
        'name': name, 'height': int(m.shape[0]), 'width': int(m.shape[1]), 'mask_rows': rows(m),
        'rle_row': encode_mask_to_rle(m), 'rle_col': encode_col(m),
        'coco_counts': coco_counts(m), 'coco_string': coco_string(coco_counts(m)), 'area': int(m.sum()),
    }


cases = []
for (h, w, kind) in [(1, 1, 'empty'), (1, 1, 'full'), (1, 9, 'noise'), (9, 1, 'noise'), (2, 3, 'full'),
                     (3, 2, 'empty'), (5, 6, 'noise'), (6, 5, 'blobs'), (13, 17, 'blobs'), (17, 13, 'noise'),
                     (32, 40, 'blobs'), (31, 33, 'noise'), (64, 48, 'blobs')]:
    cases.append(describe(f'{kind}_{h}x{w}', random_mask(h, w, kind)))
# first pixel set, last pixel set, both corners: edge runs
m = np.zeros((4, 6), np.uint8); m[0, 0] = 1; m[3, 5] = 1; m[1, 2:6] = 1; m[2, 0:2] = 1
cases.append(describe('corners_4x6', m))

pairs = []
for (h, w) in [(7, 9), (20, 24), (33, 31)]:
    for kinds in [('blobs', 'blobs'), ('noise', 'blobs'), ('empty', 'empty'), ('empty', 'blobs'), ('full', 'noise')]:
        a, b = random_mask(h, w, kinds[0]), random_mask(h, w, kinds[1])
        inter, sa, sb = int((a & b).sum()), int(a.sum()), int(b.sum())
        union = sa + sb - inter
        pairs.append({
            'height': h, 'width': w, 'a_rows': rows(a), 'b_rows': rows(b),
            'a_rle': encode_mask_to_rle(a), 'b_rle': encode_mask_to_rle(b),
            'intersection': inter, 'area_a': sa, 'area_b': sb,
            'iou': inter / union if union > 0 else 0.0,
            'dice': (2.0 * inter + 1e-4) / (sa + sb + 1e-4),
        })

# multi-image multi-class dice ([N, C, H, W]), as the competition's validation loop averages it
N, C, H, W = 3, 4, 12, 10
pred = np.stack([np.stack([random_mask(H, W, rs.choice(['blobs', 'noise', 'empty'])) for _ in range(C)]) for _ in range(N)])
truth = np.stack([np.stack([random_mask(H, W, rs.choice(['blobs', 'blobs', 'empty'])) for _ in range(C)]) for _ in range(N)])
truth[:, 3] = 0; pred[:, 3] = 0          # a class empty everywhere: 1.0 with smoothing
pred[0, 2] = 0                           # empty prediction of a non-empty truth: ~0
yt, yp = truth.reshape(N, C, -1).astype(np.float64), pred.reshape(N, C, -1).astype(np.float64)
inter = (yt * yp).sum(-1)
den = yt.sum(-1) + yp.sum(-1)
d = (2.0 * inter + 1e-4) / (den + 1e-4)
d_empty = np.where(den == 0, 1.0, 2.0 * inter / np.maximum(den, 1))
multi = {
    'images': N, 'classes': C, 'height': H, 'width': W,
    'pred': [[rows(pred[i, c]) for c in range(C)] for i in range(N)],
    'truth': [[rows(truth[i, c]) for c in range(C)] for i in range(N)],
    'pred_rle': [[encode_mask_to_rle(pred[i, c]) for c in range(C)] for i in range(N)],
    'truth_rle': [[encode_mask_to_rle(truth[i, c]) for c in range(C)] for i in range(N)],
    'per_image': d.tolist(), 'per_class': d.mean(0).tolist(), 'mean': float(d.mean(0).mean()),
    'empty1_per_image': d_empty.tolist(), 'empty1_per_class': d_empty.mean(0).tolist(), 'empty1_mean': float(d_empty.mean(0).mean()),
}

meta = {'generator': 'scripts/goldens/dice.py', 'numpy': np.__version__}
with open(os.path.join(OUT, 'rle_numpy.json'), 'w') as f:
    json.dump({**meta, 'cases': cases}, f, indent=0)
with open(os.path.join(OUT, 'dice_numpy.json'), 'w') as f:
    json.dump({**meta, 'pairs': pairs, 'multi': multi}, f, indent=0)
print('wrote', len(cases), 'rle cases,', len(pairs), 'pairs, one multi-class set to', os.path.normpath(OUT))
