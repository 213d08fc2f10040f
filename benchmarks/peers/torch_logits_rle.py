#!/usr/bin/python3
"""The hand-bone post-process as the competition's inference code runs it, on the CPU:
F.interpolate(bilinear, align_corners=False) -> torch.sigmoid -> > threshold -> .numpy() -> its numpy
encode_mask_to_rle per class. Timed end to end (median of `repeats` runs after one warm-up), with all
cores (torch.set_num_threads(os.cpu_count())). Called by benchmarks/logitsToRle.bench.ts:

  /usr/bin/python3 benchmarks/peers/torch_logits_rle.py LOGITS.f32 C h w H W THRESHOLD REPEATS OUT.json

LOGITS.f32 holds C*h*w little-endian float32. OUT.json gets {"rle": [...], "areas": [...]} of the last
run; stdout gets one JSON line of timings in ms.
"""
import json, os, sys, time
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


def main():
    path, C, h, w, H, W, thr, repeats, out = sys.argv[1:10]
    C, h, w, H, W, repeats = int(C), int(h), int(w), int(H), int(W), int(repeats)
    thr = float(thr)
    torch.set_num_threads(os.cpu_count())
    x = torch.from_numpy(np.fromfile(path, dtype='<f4').reshape(1, C, h, w))

    def run():
        t0 = time.perf_counter()
        with torch.no_grad():
            up = F.interpolate(x, size=(H, W), mode='bilinear', align_corners=False)
            t1 = time.perf_counter()
            prob = torch.sigmoid(up)
            del up
            masks = (prob > thr).numpy()
            del prob
        t2 = time.perf_counter()
        rle = [encode_mask_to_rle(masks[0, c]) for c in range(C)]
        t3 = time.perf_counter()
        areas = [int(masks[0, c].sum()) for c in range(C)]
        return (t3 - t0) * 1e3, (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, rle, areas

    run()  # warm-up
    times = [run() for _ in range(repeats)]
    with open(out, 'w') as f:
        json.dump({'rle': times[-1][4], 'areas': times[-1][5]}, f)
    med = lambda k: float(np.median([t[k] for t in times]))
    print(json.dumps({
        'torch': torch.__version__, 'threads': torch.get_num_threads(), 'runs': repeats,
        'median': med(0), 'min': min(t[0] for t in times),
        'interpolate': med(1), 'sigmoid_threshold': med(2), 'rle': med(3),
    }))


main()
