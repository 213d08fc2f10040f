#!/usr/bin/python3
"""The hand-bone post-process as the competition's inference code runs it, on the CPU:
F.interpolate(bilinear, align_corners=False) -> torch.sigmoid -> > threshold -> .numpy() -> its numpy
encode_mask_to_rle per class. Imported by benchmarks/logitsToRle.bench.ts's long-lived Python peer
(harness.PythonPeer), which sets torch.set_num_threads and times each call of `pipeline`.
"""
import time
import numpy as np
import torch
import torch.nn.functional as F


def encode_mask_to_rle(mask):
    # boostcampaitech7/level2-cv-semanticsegmentation-cv-18-lv3 src/utils/rle_convert.py
    pixels = mask.flatten()
    pixels = np.concatenate([[0], pixels, [0]])
    runs = np.where(pixels[1:] != pixels[:-1])[0] + 1
    runs[1::2] -= runs[::2]
    return ' '.join(str(x) for x in runs)


def pipeline(x, H, W, thr, stages):
    """x: [1, C, h, w] float32 logits -> C RLE strings of the [H, W] masks; appends the wall ms of
    (interpolate, sigmoid + threshold, numpy RLE) to `stages`."""
    t0 = time.perf_counter()
    with torch.no_grad():
        up = F.interpolate(x, size=(H, W), mode='bilinear', align_corners=False)
        t1 = time.perf_counter()
        prob = torch.sigmoid(up)
        del up
        masks = (prob > thr).numpy()
        del prob
    t2 = time.perf_counter()
    rle = [encode_mask_to_rle(masks[0, c]) for c in range(masks.shape[1])]
    t3 = time.perf_counter()
    stages.append(((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3))
    return rle
