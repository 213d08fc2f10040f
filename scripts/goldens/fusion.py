#!/usr/bin/python3
"""Goldens for the box-fusion ops (soft-NMS, NMM, WBF), written from the published algorithms with numpy:
- soft-NMS: Bodla et al. 2017, Algorithm 1 (the linear / Gaussian decay of mmcv.ops.soft_nms and
  ensemble_boxes.soft_nms): take the highest current score, decay the rest by IoU, drop scores <= thresh;
- NMM: SAHI's greedy_nmm (match against the keeper's own box, IoU or IoS), union of each group's boxes;
- WBF: ensemble_boxes.weighted_boxes_fusion 1.0.9 (prefilter_boxes, find_matching_box_fast,
  get_weighted_box with its float32 accumulator, the min(models, boxes) / sum(weights) rescale), without
  its clipping to [0, 1], with stable sorts (equal scores keep input order).
IoU for soft-NMS / NMM in float32 steps (numpy float32 arithmetic rounds each op, as torchvision's CPU
kernel). Run: /usr/bin/python3 scripts/goldens/fusion.py (needs python3-numpy)."""
import json, os
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'goldens', 'fusion')
os.makedirs(OUT, exist_ok=True)
rs = np.random.RandomState(15)
f32 = np.float32


def rand_boxes(n, size=200.0, maxwh=50.0, clusters=0):
    if clusters:
        # jittered copies of a few objects (what an ensemble or overlapping tiles produce)
        base = rs.uniform(0, size, (clusters, 2))
        wh = rs.uniform(8, maxwh, (clusters, 2))
        k = rs.randint(0, clusters, n)
        xy = base[k] + rs.normal(0, 2.5, (n, 2))
        whn = wh[k] * rs.uniform(0.85, 1.15, (n, 2))
        b = np.concatenate([xy, xy + whn], 1)
    else:
        xy = rs.uniform(0, size, (n, 2))
        wh = rs.uniform(1, maxwh, (n, 2))
        b = np.concatenate([xy, xy + wh], 1)
    b = b.astype(f32)
    b[: n // 4] = np.round(b[: n // 4])
    return b


def distinct_scores(n):
    return ((rs.permutation(n) + 0.5) / n).astype(f32)


def iou_f32(a, b):
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    w = max(f32(0), min(a[2], b[2]) - max(a[0], b[0]))
    h = max(f32(0), min(a[3], b[3]) - max(a[1], b[1]))
    inter = f32(w * h)
    union = f32(f32(area_a + area_b) - inter)
    return float(inter / union) if union > 0 else 0.0


def ios_f32(a, b):
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    w = max(f32(0), min(a[2], b[2]) - max(a[0], b[0]))
    h = max(f32(0), min(a[3], b[3]) - max(a[1], b[1]))
    small = min(area_a, area_b)
    return float(f32(w * h) / small) if small > 0 else 0.0


def soft_nms(boxes, scores, classes, method, nt, sigma, thresh):
    s = scores.astype(np.float64).copy()
    live = [i for i in range(len(s)) if s[i] > thresh]
    keep, kept = [], []
    while live:
        i = max(live, key=lambda j: (s[j], -j))
        live.remove(i)
        keep.append(i)
        kept.append(float(f32(s[i])))
        nxt = []
        for j in live:
            if classes is None or classes[j] == classes[i]:
                o = iou_f32(boxes[i], boxes[j])
                if method == 'gaussian':
                    w = np.exp(-(o * o) / sigma)
                elif o > nt:
                    w = 1 - o if method == 'linear' else 0.0
                else:
                    w = 1.0
                s[j] = s[j] * w
                if not s[j] > thresh:
                    continue
            nxt.append(j)
        live = nxt
    return keep, kept


def nmm(boxes, scores, classes, metric, thr):
    order = sorted(range(len(scores)), key=lambda j: (-scores[j], j))
    match = ios_f32 if metric == 'ios' else iou_f32
    group = [-1] * len(scores)
    keep, merged = [], []
    for o, i in enumerate(order):
        if group[i] != -1:
            continue
        g = len(keep)
        keep.append(i)
        group[i] = g
        box = boxes[i].copy()
        for j in order[o + 1:]:
            if group[j] != -1 or (classes is not None and classes[j] != classes[i]):
                continue
            if match(boxes[i], boxes[j]) > thr:
                group[j] = g
                box[:2] = np.minimum(box[:2], boxes[j][:2])
                box[2:] = np.maximum(box[2:], boxes[j][2:])
        merged.extend(float(v) for v in box)
    return keep, merged, group


def wbf(boxes_list, scores_list, labels_list, weights, iou_thr, skip_box_thr, conf_type, allows_overflow):
    weights = np.array(weights, dtype=np.float64)
    filtered = {}
    for t in range(len(boxes_list)):
        for j in range(len(boxes_list[t])):
            score = float(scores_list[t][j])
            if score < skip_box_thr:
                continue
            x1, y1, x2, y2 = (float(v) for v in boxes_list[t][j])
            if (x2 - x1) * (y2 - y1) == 0.0:
                continue
            label = int(labels_list[t][j])
            filtered.setdefault(label, []).append([label, score * weights[t], weights[t], t, x1, y1, x2, y2])
    out = []
    for label in sorted(filtered):
        bx = np.array(filtered[label])
        bx = bx[np.argsort(-bx[:, 1], kind='stable')]
        clusters = []
        fused = np.empty((0, 8))
        for j in range(len(bx)):
            b = bx[j]
            idx = -1
            if len(fused):
                xa = np.maximum(fused[:, 4], b[4]); ya = np.maximum(fused[:, 5], b[5])
                xb = np.minimum(fused[:, 6], b[6]); yb = np.minimum(fused[:, 7], b[7])
                inter = np.maximum(xb - xa, 0) * np.maximum(yb - ya, 0)
                aa = (fused[:, 6] - fused[:, 4]) * (fused[:, 7] - fused[:, 5])
                ab = (b[6] - b[4]) * (b[7] - b[5])
                ious = np.where(inter > 0, inter / np.where(inter > 0, aa + ab - inter, 1), 0)
                k = int(np.argmax(ious))
                if ious[k] > iou_thr:
                    idx = k
            if idx == -1:
                clusters.append([b.copy()])
                fused = np.vstack((fused, b.copy()))
            else:
                clusters[idx].append(b)
                box = np.zeros(8, dtype=np.float32)
                conf, confs = 0.0, []
                for c in clusters[idx]:
                    box[4:] += c[1] * c[4:]
                    conf += c[1]
                    confs.append(c[1])
                box[0] = clusters[idx][0][0]
                box[1] = conf / len(clusters[idx]) if conf_type == 'avg' else max(confs)
                box[4:] /= conf
                fused[idx] = box
        for i, c in enumerate(clusters):
            if conf_type == 'max':
                fused[i, 1] = fused[i, 1] / weights.max()
            elif not allows_overflow:
                fused[i, 1] = fused[i, 1] * min(len(weights), len(c)) / weights.sum()
            else:
                fused[i, 1] = fused[i, 1] * len(c) / weights.sum()
            out.append((fused[i], len(c)))
    order = sorted(range(len(out)), key=lambda k: (-out[k][0][1], k))
    return ([float(v) for k in order for v in out[k][0][4:]], [float(out[k][0][1]) for k in order],
            [int(out[k][0][0]) for k in order], [out[k][1] for k in order])


cases = {'softNms': [], 'nmm': [], 'wbf': []}
for (n, method, nt, sigma, thresh, ncls, clusters) in [
    (40, 'linear', 0.3, 0.5, 0.001, 0, 8), (150, 'linear', 0.5, 0.5, 0.05, 3, 0),
    (120, 'gaussian', 0.3, 0.5, 0.001, 0, 20), (200, 'gaussian', 0.3, 0.1, 0.01, 2, 30),
    (100, 'hard', 0.45, 0.5, 0.0, 0, 15)]:
    b = rand_boxes(n, clusters=clusters)
    s = distinct_scores(n)
    c = rs.randint(0, ncls, n).astype(np.int32) if ncls else None
    keep, kept = soft_nms(b, s, c, method, nt, sigma, thresh)
    cases['softNms'].append(dict(boxes=b.tolist(), scores=s.tolist(), classes=None if c is None else c.tolist(),
                                 method=method, iouThreshold=nt, sigma=sigma, scoreThreshold=thresh,
                                 indices=keep, keptScores=kept))

for (n, metric, thr, ncls, clusters) in [(60, 'ios', 0.5, 0, 10), (200, 'iou', 0.5, 0, 25), (150, 'ios', 0.7, 3, 20), (80, 'iou', 0.3, 2, 0)]:
    b = rand_boxes(n, clusters=clusters)
    s = distinct_scores(n)
    c = rs.randint(0, ncls, n).astype(np.int32) if ncls else None
    keep, merged, group = nmm(b, s, c, metric, thr)
    cases['nmm'].append(dict(boxes=b.tolist(), scores=s.tolist(), classes=None if c is None else c.tolist(),
                             metric=metric, matchThreshold=thr, indices=keep, merged=merged, groups=group))

for (models, per, weights, thr, skip, conf_type, overflow, ncls) in [
    (2, 30, [2, 1], 0.55, 0.0, 'avg', False, 0), (3, 60, [1, 1, 1], 0.5, 0.05, 'avg', False, 2),
    (4, 40, [1, 2, 3, 1], 0.6, 0.0, 'max', False, 3), (3, 50, [1, 1, 2], 0.55, 0.0, 'avg', True, 0)]:
    base = rand_boxes(per, clusters=max(2, per // 3))
    bl, sl, ll = [], [], []
    for m in range(models):
        b = (base + rs.normal(0, 1.5, base.shape)).astype(f32)
        b[:, 2:] = np.maximum(b[:, 2:], b[:, :2] + 1)
        keep = rs.uniform(size=per) < 0.85
        bl.append(b[keep]); sl.append(rs.uniform(0.01, 1, keep.sum()).astype(f32))
        ll.append(rs.randint(0, max(1, ncls), keep.sum()).astype(np.int32))
    fb, fs, fl, fc = wbf(bl, sl, ll, weights, thr, skip, conf_type, overflow)
    cases['wbf'].append(dict(inputs=[dict(boxes=b.tolist(), scores=s.tolist(), classes=l.tolist()) for b, s, l in zip(bl, sl, ll)],
                             weights=weights, iouThreshold=thr, skipBoxThreshold=skip, confType=conf_type,
                             allowsOverflow=overflow, boxes=fb, scores=fs, classes=fl, counts=fc))

with open(os.path.join(OUT, 'fusion.json'), 'w') as fh:
    json.dump(cases, fh)
print({k: len(v) for k, v in cases.items()}, 'softNms kept', [len(c['indices']) for c in cases['softNms']],
      'nmm groups', [len(c['indices']) for c in cases['nmm']], 'wbf boxes', [len(c['scores']) for c in cases['wbf']])
