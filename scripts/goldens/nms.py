#!/usr/bin/python3
"""Goldens for NMS and the YOLOv5 post-process, from torchvision.ops.nms / batched_nms and YOLOv5's
non_max_suppression (v7.0 logic, reproduced below line by line). Run: /usr/bin/python3 scripts/goldens/nms.py"""
import json, os
import numpy as np
import torch, torchvision

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'goldens', 'nms')
os.makedirs(OUT, exist_ok=True)
rs = np.random.RandomState(7)


def rand_boxes(n, size=200.0, maxwh=60.0):
    xy = rs.uniform(0, size, (n, 2)).astype(np.float32)
    wh = rs.uniform(1, maxwh, (n, 2)).astype(np.float32)
    b = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    # snap some coordinates to integers so exact ties in IoU arithmetic occur
    b[: n // 3] = np.round(b[: n // 3])
    return b


def distinct_scores(n):
    # distinct float32 scores (no ties): torchvision's sort is not stable, the tie rule is tested elsewhere
    s = rs.permutation(n).astype(np.float32) / n + np.float32(0.5 / n)
    return s.astype(np.float32)


nms_cases = []
for (n, thr, classes) in [(50, 0.5, 0), (300, 0.45, 0), (300, 0.3, 4), (1000, 0.7, 3), (200, 0.0, 0), (120, 1.0, 2)]:
    b = rand_boxes(n)
    s = distinct_scores(n)
    bt, st = torch.from_numpy(b), torch.from_numpy(s)
    if classes:
        c = rs.randint(0, classes, n).astype(np.int32)
        keep = torchvision.ops.batched_nms(bt, st, torch.from_numpy(c).long(), thr)
    else:
        c = None
        keep = torchvision.ops.nms(bt, st, thr)
    # batched_nms returns indices sorted by score desc: the same order as our greedy visiting order.
    nms_cases.append({'boxes': b.tolist(), 'scores': s.tolist(), 'classes': None if c is None else c.tolist(),
                      'iou': thr, 'keep': keep.tolist()})

# Planted pairs exactly at the threshold (torchvision keeps the second box: iou > thr is false).
planted = []
for (a, b, thr) in [([0, 0, 10, 10], [0, 0, 10, 5], 0.5), ([0, 0, 3, 3], [1, 0, 4, 3], 0.5),
                    ([0, 0, 10, 10], [0, 0, 10, 4.5], 0.45), ([0.1, 0.2, 7.3, 9.9], [0.3, 0.1, 7.0, 9.5], 0.9)]:
    bt = torch.tensor([a, b], dtype=torch.float32)
    st = torch.tensor([0.9, 0.8], dtype=torch.float32)
    iou = torchvision.ops.box_iou(bt, bt)[0, 1].item()
    keep = torchvision.ops.nms(bt, st, thr).tolist()
    planted.append({'boxes': [a, b], 'iou': thr, 'box_iou': iou, 'keep': keep})


def xywh2xyxy(x):
    y = x.clone()
    y[..., 0] = x[..., 0] - x[..., 2] / 2
    y[..., 1] = x[..., 1] - x[..., 3] / 2
    y[..., 2] = x[..., 0] + x[..., 2] / 2
    y[..., 3] = x[..., 1] + x[..., 3] / 2
    return y


def yolov5_nms(prediction, conf_thres=0.25, iou_thres=0.45, classes=None, agnostic=False, max_det=300):
    """YOLOv5 v7.0 utils/general.py non_max_suppression, single-label, no masks."""
    bs = prediction.shape[0]
    xc = prediction[..., 4] > conf_thres
    max_wh, max_nms = 7680, 30000
    output = [torch.zeros((0, 6))] * bs
    for xi, x in enumerate(prediction):
        x = x[xc[xi]]
        if not x.shape[0]:
            continue
        x[:, 5:] *= x[:, 4:5]
        box = xywh2xyxy(x[:, :4])
        conf, j = x[:, 5:].max(1, keepdim=True)
        x = torch.cat((box, conf, j.float()), 1)[conf.view(-1) > conf_thres]
        if classes is not None:
            x = x[(x[:, 5:6] == torch.tensor(classes)).any(1)]
        n = x.shape[0]
        if not n:
            continue
        x = x[x[:, 4].argsort(descending=True)[:max_nms]]
        c = x[:, 5:6] * (0 if agnostic else max_wh)
        boxes, scores = x[:, :4] + c, x[:, 4]
        i = torchvision.ops.nms(boxes, scores, iou_thres)
        i = i[:max_det]
        output[xi] = x[i]
    return output


yolo_cases = []
for (n, nc, conf, iou, agnostic, classes, max_det) in [(400, 1, 0.4, 0.45, False, None, 1000), (600, 3, 0.25, 0.5, False, None, 300),
                                                      (600, 3, 0.3, 0.45, True, None, 1000), (500, 5, 0.2, 0.6, False, [1, 3], 50)]:
    cxcy = rs.uniform(0, 640, (n, 2))
    wh = rs.uniform(4, 80, (n, 2))
    obj = rs.uniform(0, 1, (n, 1)) if nc > 1 else np.ones((n, 1))
    cls = rs.uniform(0, 1, (n, nc))
    pred = np.concatenate([cxcy, wh, obj, cls], 1).astype(np.float32)
    out = yolov5_nms(torch.from_numpy(pred.copy())[None], conf, iou, classes, agnostic, max_det)[0]
    yolo_cases.append({'pred': pred.flatten().tolist(), 'shape': [n, 5 + nc], 'conf': conf, 'iou': iou, 'agnostic': agnostic,
                       'classes': classes, 'max_det': max_det, 'out': out.numpy().astype(np.float64).tolist()})

with open(os.path.join(OUT, 'torchvision_nms.json'), 'w') as f:
    json.dump({'generator': 'scripts/goldens/nms.py', 'torch': torch.__version__, 'torchvision': torchvision.__version__,
               'nms': nms_cases, 'planted': planted}, f)
with open(os.path.join(OUT, 'yolov5_nms.json'), 'w') as f:
    json.dump({'generator': 'scripts/goldens/nms.py', 'torch': torch.__version__, 'cases': yolo_cases}, f)
print('ok', len(nms_cases), len(planted), len(yolo_cases), [len(c['keep']) for c in nms_cases], [len(c['out']) for c in yolo_cases])
