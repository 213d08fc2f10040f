#!/usr/bin/python3
"""Goldens for VOC AP: the Pascal VOC devkit's voc_eval / voc_ap algorithm (greedy by score, each
detection to the ground truth of max IoU, > threshold, difficult ignored, duplicates false positives;
all-point and 11-point AP), written here in numpy with maskbox's box convention (x2 = x + w, no +1)
and a stable sort on scores. Run: /usr/bin/python3 scripts/goldens/vocAp.py"""
import json, os
import numpy as np

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'goldens', 'vocAp')
os.makedirs(OUT, exist_ok=True)
rs = np.random.RandomState(11)


def ap_from_curve(rec, prec, eleven):
    if eleven:
        ap = 0.0
        for t in np.arange(0.0, 1.1, 0.1):
            p = 0.0 if np.sum(rec >= t) == 0 else np.max(prec[rec >= t])
            ap = ap + p / 11.0
        return ap
    mrec = np.concatenate(([0.0], rec, [1.0]))
    mpre = np.concatenate(([0.0], prec, [0.0]))
    for i in range(mpre.size - 1, 0, -1):
        mpre[i - 1] = np.maximum(mpre[i - 1], mpre[i])
    i = np.where(mrec[1:] != mrec[:-1])[0]
    return float(np.sum((mrec[i + 1] - mrec[i]) * mpre[i + 1]))


def iou(b, g):
    # b: [4] xyxy, g: [n, 4] xyxy
    iw = np.maximum(np.minimum(g[:, 2], b[2]) - np.maximum(g[:, 0], b[0]), 0.0)
    ih = np.maximum(np.minimum(g[:, 3], b[3]) - np.maximum(g[:, 1], b[1]), 0.0)
    inter = iw * ih
    uni = (b[2] - b[0]) * (b[3] - b[1]) + (g[:, 2] - g[:, 0]) * (g[:, 3] - g[:, 1]) - inter
    return np.where(uni > 0, inter / np.where(uni > 0, uni, 1), 0.0)


def voc_class(gts, dets, thr, eleven):
    """gts: {image: (boxes [n,4], difficult [n])}; dets: list of (image, score, box)."""
    npos = sum(int(np.sum(~d)) for _, d in gts.values())
    order = np.argsort([-s for _, s, _ in dets], kind='stable')
    taken = {k: np.zeros(len(v[1]), bool) for k, v in gts.items()}
    tp = np.zeros(len(dets)); fp = np.zeros(len(dets))
    for r, j in enumerate(order):
        img, _, box = dets[j]
        g, diff = gts.get(img, (np.zeros((0, 4)), np.zeros(0, bool)))
        ovmax = -np.inf
        if len(g):
            o = iou(np.array(box), g)
            ovmax = o.max(); jmax = int(o.argmax())
        if ovmax > thr:
            if not diff[jmax]:
                if not taken[img][jmax]:
                    tp[r] = 1; taken[img][jmax] = True
                else:
                    fp[r] = 1
        else:
            fp[r] = 1
    tp = np.cumsum(tp); fp = np.cumsum(fp)
    if npos == 0:
        return None
    rec = tp / npos
    prec = tp / np.maximum(tp + fp, np.finfo(np.float64).eps)
    return ap_from_curve(rec, prec, eleven), rec.tolist(), prec.tolist()


cases = []
for ci, (n_img, n_cls, thr, eleven) in enumerate([(4, 3, 0.5, False), (6, 2, 0.5, True), (5, 3, 0.3, False), (8, 4, 0.7, False), (3, 2, 0.5, False)]):
    images = [{'id': i + 1, 'width': 200, 'height': 200} for i in range(n_img)]
    cats = [{'id': k + 1, 'name': 'c%d' % (k + 1)} for k in range(n_cls)]
    anns, res = [], []
    for im in images:
        for _ in range(rs.randint(0, 6)):
            x, y = rs.uniform(0, 150, 2).round(1); w, h = rs.uniform(5, 50, 2).round(1)
            k = int(rs.randint(1, n_cls + 1))
            anns.append({'id': len(anns) + 1, 'image_id': im['id'], 'category_id': k, 'bbox': [x, y, w, h],
                         'area': float(w * h), 'iscrowd': int(rs.rand() < 0.15)})
            for _ in range(rs.randint(0, 3)):  # jittered copies: matches and duplicates
                j = lambda v, s: float(round(v + rs.uniform(-0.25, 0.25) * s, 1))
                res.append({'image_id': im['id'], 'category_id': k if rs.rand() < 0.9 else int(rs.randint(1, n_cls + 1)),
                            'bbox': [j(x, w), j(y, h), max(1.0, j(w, w)), max(1.0, j(h, h))], 'score': 0.0})
        for _ in range(rs.randint(0, 4)):  # background false positives
            x, y = rs.uniform(0, 150, 2).round(1); w, h = rs.uniform(5, 50, 2).round(1)
            res.append({'image_id': im['id'], 'category_id': int(rs.randint(1, n_cls + 1)), 'bbox': [x, y, w, h], 'score': 0.0})
    for r in res:  # scores with some exact ties (stable order decides)
        r['score'] = float(rs.randint(0, 40)) / 40
    per_class = []
    for c in cats:
        k = c['id']
        gts = {}
        for a in anns:
            if a['category_id'] != k:
                continue
            x, y, w, h = a['bbox']
            b, d = gts.get(a['image_id'], (np.zeros((0, 4)), np.zeros(0, bool)))
            gts[a['image_id']] = (np.vstack([b, [x, y, x + w, y + h]]), np.append(d, bool(a['iscrowd'])))
        dets = [(r['image_id'], r['score'], [r['bbox'][0], r['bbox'][1], r['bbox'][0] + r['bbox'][2], r['bbox'][1] + r['bbox'][3]])
                for r in res if r['category_id'] == k]
        out = voc_class(gts, dets, thr, eleven)
        per_class.append(None if out is None else {'ap': out[0], 'recall': out[1], 'precision': out[2]})
    aps = [p['ap'] for p in per_class if p is not None]
    cases.append({'gt': {'images': images, 'categories': cats, 'annotations': anns}, 'results': res, 'iouThreshold': thr,
                  'interpolation': '11-point' if eleven else 'all-point', 'classes': per_class,
                  'mAP': float(np.mean(aps)) if aps else None})

with open(os.path.join(OUT, 'voc_eval.json'), 'w') as f:
    json.dump({'source': 'scripts/goldens/vocAp.py (VOC devkit voc_eval/voc_ap algorithm, numpy)', 'cases': cases}, f)
print('wrote', len(cases), 'cases')
