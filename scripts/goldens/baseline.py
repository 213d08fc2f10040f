#!/usr/bin/python3
"""Goldens for the lab's DBSCAN baseline detector, computed the way the lab ran it: torch conv2d (3x3, all
weights 1, centre 10, bias -11, padding=1 zero padding, same size) then `> 0`, 5 times, the first over the
RGB channels summed (a [1,3,3,3] kernel); np.argwhere of the mask (row, col), sklearn DBSCAN(eps=3,
min_samples=2); each cluster's box is the min/max of its pixels (x = column, y = row, x2 = max column).
Two intensity scales: 'unit' (/255, torchvision ToTensor; maskbox's default) and 'raw' (0..255 as read).
Pixels whose first convolution is exactly 0 are counted (`firstPassTies`); torch's float32 must not have
flipped any of them (maskbox decides them exactly: dropped).
Run: /usr/bin/python3 scripts/goldens/baseline.py"""
import base64, json, os
import numpy as np
import torch
import torch.nn.functional as F
from sklearn.cluster import DBSCAN

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'goldens', 'baseline')
os.makedirs(OUT, exist_ok=True)
rs = np.random.RandomState(11)


def lab_baseline(rgb, scale, passes=5):
    x = torch.from_numpy(rgb.astype(np.float32)).permute(2, 0, 1)[None]
    if scale == 'unit':
        x = x / 255
    bias = torch.tensor([-11.0])
    k3 = torch.ones(1, 3, 3, 3)
    k3[:, :, 1, 1] = 10
    k1 = torch.ones(1, 1, 3, 3)
    k1[:, :, 1, 1] = 10
    x = (F.conv2d(x, k3, bias, padding=1) > 0).float()
    first = x[0, 0].numpy() > 0
    for _ in range(passes - 1):
        x = (F.conv2d(x, k1, bias, padding=1) > 0).float()
    mask = x[0, 0].numpy() > 0
    pts = np.argwhere(mask)
    labels = DBSCAN(eps=3, min_samples=2).fit(pts).labels_ if len(pts) else np.zeros(0, int)
    boxes, sizes = [], []
    for k in range(labels.max() + 1 if len(labels) else 0):
        sel = pts[labels == k]
        boxes.append([int(sel[:, 1].min()), int(sel[:, 0].min()), int(sel[:, 1].max()), int(sel[:, 0].max())])
        sizes.append(int(len(sel)))
    # exact ties of the first convolution (real value exactly 0) would be decided by float32 rounding
    s = rgb.astype(np.int64).sum(2)
    p = np.pad(s, 1)
    conv = sum(p[1 + dy:1 + dy + s.shape[0], 1 + dx:1 + dx + s.shape[1]] for dy in (-1, 0, 1) for dx in (-1, 0, 1)) + 9 * s
    ties = int((conv == (2805 if scale == 'unit' else 11)).sum())
    # torch's float32 may keep a pixel whose exact value is 0; maskbox drops it. Keep goldens free of that.
    flips = int(((conv > (2805 if scale == 'unit' else 11)) != first).sum())
    assert flips == 0, f'torch float32 rounding flipped {flips} exact-tie pixels: pick another image'
    return {'points': int(len(pts)), 'labels': labels.tolist(), 'boxes': boxes, 'sizes': sizes, 'firstPassTies': ties}


def blobs(h, w, specs, background, channels, ring=False):
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    img = rs.randint(0, background + 1, (h, w, channels)).astype(np.float64) if background else np.zeros((h, w, channels))
    for (cy, cx, sd, peak, color) in specs:
        r2 = (yy - cy) ** 2 + (xx - cx) ** 2
        g = np.exp(-((np.sqrt(r2) - 2.5 * sd) ** 2) / (2 * (0.6 * sd) ** 2)) if ring else np.exp(-r2 / (2 * sd * sd))
        g = g * peak * (0.8 + 0.4 * rs.rand(h, w))
        img += g[:, :, None] * np.array(color[:channels])[None, None, :]
    return np.clip(np.round(img), 0, 255).astype(np.uint8)


images = []
# RGB, black background: five blobs, two of them touching (they merge: the baseline's known fault),
# plus isolated bright pixels and a 2-pixel speck that the later passes remove
img = blobs(96, 96, [(20, 20, 3, 220, (1, 1, 1)), (20, 31, 3, 200, (1, 0.6, 0.3)), (60, 70, 4, 250, (0.2, 1, 0.2)),
                     (75, 20, 2, 180, (1, 1, 1)), (45, 48, 2.5, 160, (0.5, 0.5, 1))], 0, 3)
for (y, x) in ((5, 90), (90, 5), (50, 10)):
    img[y, x] = 255
img[88, 60] = img[88, 61] = 200
images.append(('rgb_blobs_touching', img))
# grey, noisy background (0..12): 'raw' keeps nearly everything, 'unit' keeps the blobs
images.append(('grey_noisy', blobs(96, 96, [(30, 30, 3, 200, (1,)), (30, 39, 3, 200, (1,)), (70, 60, 5, 230, (1,)),
                                           (80, 15, 2, 120, (1,))], 12, 1)))
# non-square RGB, ring-shaped vesicles touching the image border
images.append(('rgb_rings_nonsquare', blobs(40, 72, [(20, 12, 3, 240, (1, 1, 1)), (0, 40, 3, 230, (1, 0.8, 0.8)),
                                                     (25, 71, 2, 250, (0.9, 1, 1))], 0, 3, ring=True)))

cases = []
for name, img in images:
    h, w = img.shape[:2]
    c = img.shape[2]
    rgb = np.repeat(img, 3, axis=2) if c == 1 else img
    case = {'name': name, 'width': w, 'height': h, 'channels': c, 'data': base64.b64encode(img.tobytes()).decode(),
            'raw': lab_baseline(rgb, 'raw'), 'unit': lab_baseline(rgb, 'unit')}
    for s in ('raw', 'unit'):
        print(name, s, 'points', case[s]['points'], 'clusters', len(case[s]['boxes']), 'ties', case[s]['firstPassTies'])
    cases.append(case)

with open(os.path.join(OUT, 'lab_baseline.json'), 'w') as f:
    json.dump({'generator': 'scripts/goldens/baseline.py', 'torch': torch.__version__, 'cases': cases}, f, separators=(',', ':'))
print(os.path.getsize(os.path.join(OUT, 'lab_baseline.json')), 'bytes')
