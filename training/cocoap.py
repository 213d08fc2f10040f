"""Single-class bbox AP with pycocotools COCOeval semantics (no pycocotools needed).

IoU thresholds np.linspace(.5, .95, 10), 101 recall points, area range 'all', no crowd GTs;
detections sorted by score with a stable sort and capped at maxDets per image; greedy matching where
a detection takes the unmatched GT of highest IoU >= threshold (later GT wins ties);
precision = tp / (tp + fp + eps), made monotone, sampled with searchsorted(side='left').
"""
import numpy as np

IOU_THRS = np.linspace(0.5, 0.95, int(np.round((0.95 - 0.5) / 0.05)) + 1, endpoint=True)
REC_THRS = np.linspace(0.0, 1.00, int(np.round((1.00 - 0.0) / 0.01)) + 1, endpoint=True)


def iou_xywh(d, g):
    """IoU matrix between [N,4] and [M,4] boxes in x, y, w, h (pycocotools maskUtils.iou, no crowd)."""
    if len(d) == 0 or len(g) == 0:
        return np.zeros((len(d), len(g)))
    dx2, dy2 = d[:, 0] + d[:, 2], d[:, 1] + d[:, 3]
    gx2, gy2 = g[:, 0] + g[:, 2], g[:, 1] + g[:, 3]
    iw = np.minimum(dx2[:, None], gx2[None]) - np.maximum(d[:, 0][:, None], g[:, 0][None])
    ih = np.minimum(dy2[:, None], gy2[None]) - np.maximum(d[:, 1][:, None], g[:, 1][None])
    inter = np.clip(iw, 0, None) * np.clip(ih, 0, None)
    union = (d[:, 2] * d[:, 3])[:, None] + (g[:, 2] * g[:, 3])[None] - inter
    return inter / union


def evaluate(gts, dets, max_dets=100):
    """gts: list per image of [M,4] xywh; dets: list per image of ([N,4] xywh, [N] scores).

    Returns dict with AP (0.5:0.95), AP50, AP75 and the recall at IoU 0.5 (maxDets capped)."""
    T = len(IOU_THRS)
    all_scores, all_tp = [], []
    npig = 0
    for g, (d, s) in zip(gts, dets):
        g = np.asarray(g, dtype=np.float64).reshape(-1, 4)
        d = np.asarray(d, dtype=np.float64).reshape(-1, 4)
        s = np.asarray(s, dtype=np.float64).reshape(-1)
        order = np.argsort(-s, kind="mergesort")[:max_dets]
        d, s = d[order], s[order]
        npig += len(g)
        ious = iou_xywh(d, g)
        tp = np.zeros((T, len(d)), dtype=bool)
        for t, thr in enumerate(IOU_THRS):
            taken = np.zeros(len(g), dtype=bool)
            for di in range(len(d)):
                best, m = min(thr, 1 - 1e-10), -1
                for gi in range(len(g)):
                    if taken[gi]:
                        continue
                    if ious[di, gi] < best:
                        continue
                    best, m = ious[di, gi], gi
                if m >= 0:
                    taken[m] = True
                    tp[t, di] = True
        all_scores.append(s)
        all_tp.append(tp)
    scores = np.concatenate(all_scores) if all_scores else np.zeros(0)
    tps = np.concatenate(all_tp, axis=1) if all_tp else np.zeros((T, 0), dtype=bool)
    inds = np.argsort(-scores, kind="mergesort")
    tps = tps[:, inds]
    fps = ~tps
    tp_sum = np.cumsum(tps, axis=1).astype(float)
    fp_sum = np.cumsum(fps, axis=1).astype(float)
    ap = np.zeros(T)
    rec_at = np.zeros(T)
    for t in range(T):
        tp, fp = tp_sum[t], fp_sum[t]
        rc = tp / max(npig, 1)
        pr = (tp / (fp + tp + np.spacing(1))).tolist()
        rec_at[t] = rc[-1] if len(rc) else 0
        for i in range(len(pr) - 1, 0, -1):
            if pr[i] > pr[i - 1]:
                pr[i - 1] = pr[i]
        q = np.zeros(len(REC_THRS))
        idx = np.searchsorted(rc, REC_THRS, side="left")
        for ri, pi in enumerate(idx):
            if pi < len(pr):
                q[ri] = pr[pi]
        ap[t] = q.mean()
    return {"mAP": float(ap.mean()), "AP50": float(ap[0]), "AP75": float(ap[5]), "recall50": float(rec_at[0]), "gts": npig}
