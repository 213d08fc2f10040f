#!/usr/bin/python3
"""Goldens for channelPercentiles: numpy.percentile(channel, q, method='linear') of each colour channel
(alpha excluded) of small 8- and 16-bit HWC images, in float64 as numpy computes it on integer input.
Cases: 1, 3 and 4 channels; uniform, clustered and sparse samples; a channel all zero; a constant
channel; a single pixel; q pairs at the ends (0, 100), narrow ones and ones falling between samples.
Run: /usr/bin/python3 scripts/goldens/channelPercentiles.py"""
import json, os
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'goldens', 'channelPercentiles')
os.makedirs(OUT, exist_ok=True)
rs = np.random.RandomState(7)

Q_PAIRS = [[0, 100], [0.1, 99.9], [2, 98], [25, 75], [50, 50.5], [1 / 3, 200 / 3], [0, 0.0001], [99.99, 100]]


def image(h, w, c, depth, kind):
    top = 255 if depth == 8 else 65535
    if kind == 'uniform':
        a = rs.randint(0, top + 1, size=(h, w, c))
    elif kind == 'clustered':  # a dim background and a few bright spots, as a microscopy frame
        a = rs.normal(top * 0.1, top * 0.02, size=(h, w, c))
        spots = rs.rand(h, w) < 0.05
        a[spots] += top * 0.7
        a = np.clip(np.rint(a), 0, top)
    else:  # sparse: mostly zero, a few values
        a = np.where(rs.rand(h, w, c) < 0.1, rs.randint(0, top + 1, size=(h, w, c)), 0)
    return a.astype(np.uint8 if depth == 8 else np.uint16)


cases = []
shapes = [(1, 1), (3, 5), (8, 7), (16, 12)]
k = 0
for depth in (8, 16):
    for c in (1, 3, 4):
        for kind in ('uniform', 'clustered', 'sparse'):
            h, w = shapes[k % len(shapes)]
            k += 1
            img = image(h, w, c, depth, kind)
            if c >= 3 and kind == 'uniform':
                img[:, :, 1] = 0  # a channel all zero
            if c == 4 and kind == 'clustered':
                img[:, :, 2] = 7  # a constant channel
            q = Q_PAIRS[k % len(Q_PAIRS)]
            colour = 3 if c == 4 else c
            low = [float(np.percentile(img[:, :, ch].ravel(), q[0], method='linear')) for ch in range(colour)]
            high = [float(np.percentile(img[:, :, ch].ravel(), q[1], method='linear')) for ch in range(colour)]
            cases.append({'width': w, 'height': h, 'channels': c, 'depth': depth, 'kind': kind, 'q': q,
                          'data': img.ravel().tolist(), 'low': low, 'high': high})
# every q pair on one RGB image (values between samples: the linear interpolation)
img = image(9, 11, 3, 16, 'clustered')
for q in Q_PAIRS:
    cases.append({'width': 11, 'height': 9, 'channels': 3, 'depth': 16, 'kind': 'clustered', 'q': q,
                  'data': img.ravel().tolist(),
                  'low': [float(np.percentile(img[:, :, ch].ravel(), q[0], method='linear')) for ch in range(3)],
                  'high': [float(np.percentile(img[:, :, ch].ravel(), q[1], method='linear')) for ch in range(3)]})

path = os.path.join(OUT, 'channel_percentiles.json')
with open(path, 'w') as f:
    json.dump({'numpy': np.__version__, 'cases': cases}, f, separators=(',', ':'))
print(path, os.path.getsize(path), 'bytes,', len(cases), 'cases')
