#!/usr/bin/python3
"""Golden for the lab's detections CSV rule (DESIGN.md section 1), computed with numpy / Python.

For float32 xyxy boxes in original pixels and float32 scores:
  clip x to [0, W], y to [0, H] (YOLOv5 clip_boxes), round each coordinate half-to-even (Python round()),
  width = x2 - x1, height = y2 - y1, x_center = int(x1 + width / 2), y_center = int(y1 + height / 2),
  area = width * height, confidence = str(float(np.float32 score)) (what pandas/csv print for conf.item()).
Rows keep the input (NMS) order.  Run: /usr/bin/python3 scripts/goldens/detections_csv.py
"""
import json, os
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'goldens', 'pipeline')
os.makedirs(OUT, exist_ok=True)
rs = np.random.RandomState(11)


def rule(boxes, scores, W, H):
    b = boxes.astype(np.float32).copy()
    b[:, [0, 2]] = b[:, [0, 2]].clip(0, W)
    b[:, [1, 3]] = b[:, [1, 3]].clip(0, H)
    rows = []
    for (x1, y1, x2, y2), s in zip(b.tolist(), scores.astype(np.float32)):
        x1, y1, x2, y2 = round(x1), round(y1), round(x2), round(y2)  # Python round: half to even
        w, h = x2 - x1, y2 - y1
        rows.append([int(x1 + w / 2), int(y1 + h / 2), w, h, str(float(s)), w * h])
    return rows


def csv_text(rows):
    lines = ['x_center,y_center,width,height,confidence,area']
    lines += [','.join(str(v) for v in r) for r in rows]
    return '\n'.join(lines) + '\n'


cases = []
# 1. hand-made: exact .5 coordinates (half to even both ways), negative and beyond-edge coordinates, odd widths
halves = np.array([
    [0.5, 1.5, 2.5, 3.5],
    [10.5, 11.5, 13.5, 12.5],
    [-3.2, -0.5, 5.5, 7.49999],
    [2040.5, 2045.5, 2050.0, 2047.5],
    [100.49999, 200.50001, 131.5, 229.5],
    [7.0, 7.0, 7.0, 7.0],
    [1023.5, 1024.5, 1046.5, 1047.5],
    [-10, -10, -1, -1],
], dtype=np.float32)
scores = np.array([0.9, 0.5, 1.0, 0.4000001, 0.87654321, 0.123, 0.99999994, 1e-05], dtype=np.float32)
cases.append({'name': 'halves_and_clipping', 'width': 2048, 'height': 2048})
cases[-1]['boxes'], cases[-1]['scores'] = halves, scores

# 2. random small boxes like the lab's (1.2-2 % of 2048), some near the edges, quarter-pixel grid so .5 occurs
n = 200
xy = (rs.uniform(-20, 2060, (n, 2)) * 4).round() / 4
wh = (rs.uniform(20, 45, (n, 2)) * 4).round() / 4
b = np.concatenate([xy, xy + wh], 1).astype(np.float32)
cases.append({'name': 'random_quarter_grid', 'width': 2048, 'height': 2048, 'boxes': b,
              'scores': rs.uniform(0.4, 1.0, n).astype(np.float32)})

# 3. arbitrary float32 coordinates on a non-square image
n = 100
xy = rs.uniform(-5, 1000, (n, 2))
wh = rs.uniform(0, 60, (n, 2))
b = np.concatenate([xy, xy + wh], 1).astype(np.float32)
cases.append({'name': 'random_float32_rect_image', 'width': 1000, 'height': 612, 'boxes': b,
              'scores': rs.uniform(0, 1, n).astype(np.float32)})

# 4. empty
cases.append({'name': 'empty', 'width': 64, 'height': 64, 'boxes': np.zeros((0, 4), np.float32),
              'scores': np.zeros((0,), np.float32)})

out = []
for c in cases:
    rows = rule(c['boxes'], c['scores'], c['width'], c['height'])
    out.append({'name': c['name'], 'width': c['width'], 'height': c['height'],
                'boxes': [float(v) for v in c['boxes'].reshape(-1)],
                'scores': [float(v) for v in c['scores']],
                'rows': rows, 'csv': csv_text(rows)})

# Python's repr of floats across magnitudes (float32 scores widened, and random doubles), for pyFloatRepr.
vals = [float(v) for v in rs.uniform(0, 1, 100).astype(np.float32)]
vals += [float(m * 10.0 ** e) for m, e in zip(rs.uniform(1, 10, 150), rs.randint(-12, 22, 150))]
vals += [1.0, 0.0001, 1e-05, 1e16, 1e15, 123456789012345678.0, 0.1, 2.0 ** -30, 5e-324]
reprs = [[v, repr(v)] for v in vals]

with open(os.path.join(OUT, 'csv_rule.json'), 'w') as f:
    json.dump({'generator': 'scripts/goldens/detections_csv.py', 'numpy': np.__version__, 'cases': out,
               'reprs': reprs}, f)
print('wrote', len(out), 'cases')
