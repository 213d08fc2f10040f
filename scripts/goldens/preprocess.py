#!/usr/bin/python3
"""Goldens for the preprocessing ops, from torch and YOLOv5's own formulas.

- resize.json: torch.nn.functional.interpolate(mode='bilinear', align_corners=False) on float32 inputs
  (size= given, so torch uses scale = in/out), plus the exact float64 bilinear of the same inputs so the
  tests can show torch's float32 source coordinate is reproduced, not just exact bilinear.
- letterbox_params.json: YOLOv5 utils/augmentations.py letterbox() geometry (v7.0, lines reproduced
  below), and the gain/pad that scale_boxes() recomputes from the letterboxed and original shapes.
- letterbox_pixels.json: small images letterboxed as the contract says (bilinear with half-pixel
  centres = torch float64 interpolate, antialias off; /255, /65535 or numpy.percentile stretch; pad 114/255).
- scale_boxes.json: YOLOv5 utils/general.py scale_boxes() + clip_boxes() on float32 torch tensors.

Run: /usr/bin/python3 scripts/goldens/preprocess.py
"""
import json, os
import numpy as np
import torch
import torch.nn.functional as F

OUT = os.path.join(os.path.dirname(__file__), '..', '..', 'test', 'goldens', 'preprocess')
os.makedirs(OUT, exist_ok=True)
rs = np.random.RandomState(11)


def f32list(a):
    # shortest repr that round-trips through float32 (keeps the files small)
    return [float(repr(np.float32(x))) for x in np.asarray(a, dtype=np.float32).ravel()]


def dump(name, obj):
    with open(os.path.join(OUT, name), 'w') as f:
        json.dump(obj, f, separators=(',', ':'))
    print(name, os.path.getsize(os.path.join(OUT, name)), 'bytes')


# ---------------------------------------------------------------- resize
def exact_bilinear(x, H, W):
    """Half-pixel-centre bilinear in float64 with exact coordinates (no float32 rounding)."""
    C, h, w = x.shape

    def taps(n_in, n_out):
        d = np.arange(n_out, dtype=np.float64)
        src = np.maximum((d + 0.5) * (n_in / n_out) - 0.5, 0)
        i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        l1 = np.clip(src - i0, 0, 1)
        i1 = np.where(i0 < n_in - 1, i0 + 1, i0)
        return i0, i1, 1 - l1, l1

    y0, y1, wy0, wy1 = taps(h, H)
    x0, x1, wx0, wx1 = taps(w, W)
    xd = x.astype(np.float64)
    top = xd[:, y0][:, :, x0] * wx0 + xd[:, y0][:, :, x1] * wx1
    bot = xd[:, y1][:, :, x0] * wx0 + xd[:, y1][:, :, x1] * wx1
    return top * wy0[:, None] + bot * wy1[:, None]


resize_cases = []
for (C, h, w, H, W) in [
    (2, 8, 6, 32, 24),     # 4x upscale (512 -> 2048 in miniature)
    (3, 32, 24, 8, 6),     # 4x downscale
    (2, 7, 5, 13, 11),     # non-integer ratios up
    (2, 13, 11, 7, 5),     # non-integer ratios down
    (2, 10, 9, 23, 4),     # up one axis, down the other
    (2, 1, 1, 4, 5),       # 1-pixel input
    (2, 5, 4, 1, 1),       # 1-pixel output
    (2, 1, 9, 3, 1),       # 1-pixel dims mixed
    (2, 6, 6, 6, 6),       # identity
    (2, 6, 10, 6, 17),     # one axis unchanged
    (1, 12, 12, 48, 48),   # C = 1 (torch takes its channels-last path)
    (2, 1, 512, 1, 2048),  # large upscale (the hand-bone 512 -> 2048), one row to keep the file small
    (2, 1, 2000, 1, 7),    # large downscale: torch is ~1e-4 off exact bilinear here
    (2, 1, 1023, 1, 1024), # near-identity non-integer ratio
]:
    x = (rs.randn(C, h, w) * 5).astype(np.float32)
    y = F.interpolate(torch.from_numpy(x)[None], size=(H, W), mode='bilinear', align_corners=False)[0].numpy()
    ex = exact_bilinear(x, H, W)
    resize_cases.append({'shape': [C, h, w], 'size': [H, W], 'input': f32list(x), 'torch': f32list(y),
                         'exact_max_diff': float(np.abs(ex - y.astype(np.float64)).max())})
dump('resize.json', {'torch': torch.__version__, 'cases': resize_cases})


# ---------------------------------------------------------------- letterbox geometry (YOLOv5 v7.0)
def letterbox_geometry(shape, new_shape=(640, 640), auto=False, scaleup=True, stride=32):
    # shape = (h, w); lines as in YOLOv5's letterbox(), without the pixel work
    if isinstance(new_shape, int):
        new_shape = (new_shape, new_shape)
    r = min(new_shape[0] / shape[0], new_shape[1] / shape[1])
    if not scaleup:
        r = min(r, 1.0)
    ratio = r, r
    new_unpad = int(round(shape[1] * r)), int(round(shape[0] * r))
    dw, dh = new_shape[1] - new_unpad[0], new_shape[0] - new_unpad[1]
    if auto:
        dw, dh = np.mod(dw, stride), np.mod(dh, stride)
    dw /= 2
    dh /= 2
    top, bottom = int(round(dh - 0.1)), int(round(dh + 0.1))
    left, right = int(round(dw - 0.1)), int(round(dw + 0.1))
    out_h, out_w = new_unpad[1] + top + bottom, new_unpad[0] + left + right
    # scale_boxes(img1_shape=(out_h, out_w), boxes, img0_shape=shape) with ratio_pad=None recomputes
    gain = min(out_h / shape[0], out_w / shape[1])
    # ... which is the letterbox's own r or smaller (auto mode, round(w*r) rounded down onto a multiple of
    # the stride) when scaleup is True. With scaleup=False and a small image it is wrong (the image was not
    # enlarged; YOLOv5's val.py passes ratio_pad then), so maskbox takes min(gain, r): the same whenever
    # scaleup is True.
    if scaleup:
        assert gain <= r
    gain = min(gain, r)
    pad = (out_w - shape[1] * gain) / 2, (out_h - shape[0] * gain) / 2
    return {'ratio': ratio[0], 'newWidth': new_unpad[0], 'newHeight': new_unpad[1], 'dw': float(dw), 'dh': float(dh),
            'left': left, 'top': top, 'width': out_w, 'height': out_h, 'gain': gain, 'padX': pad[0], 'padY': pad[1]}


geom_cases = []
table = [
    ((2048, 1000), 640, False, True, 32),   # h=2048, w=1000 -> width 312 (312.5 to even)
    ((2048, 1000), 640, True, True, 32),
    ((2048, 2048), 640, False, True, 32),
    ((2048, 2048), 640, True, True, 32),
    ((1000, 2048), 640, False, True, 32),
    ((1080, 1920), 640, True, True, 32),
    ((1080, 1920), 640, False, True, 32),
    ((720, 1280), 640, True, True, 32),
    ((480, 640), 640, False, True, 32),
    ((480, 640), 640, True, True, 32),
    ((50, 100), 640, False, False, 32),     # no upscaling
    ((300, 300), 640, True, False, 32),
    ((50, 100), 640, False, True, 32),      # upscale
    ((1023, 1025), 640, False, True, 32),
    ((777, 333), (384, 640), False, True, 32),
    ((777, 333), (384, 640), True, True, 32),
    ((1, 1000), 640, False, True, 32),
    ((1000, 1), 640, True, True, 32),
    ((640, 640), 640, False, True, 32),     # already the target size
    ((2048, 1000), 640, True, True, 64),
    ((999, 1001), 512, True, True, 32),
]
# a few sizes where auto mode rounds the padded side onto a multiple of the stride below w*r, so that
# scale_boxes' gain differs from the letterbox ratio
found = 0
for h in range(600, 2100, 7):
    for w in range(300, 2100, 13):
        g = letterbox_geometry((h, w), 640, True)
        if g['gain'] != g['ratio'] and found < 4:
            table.append(((h, w), 640, True, True, 32))
            found += 1
for (shape, size, auto, scaleup, stride) in table:
    g = letterbox_geometry(shape, size, auto, scaleup, stride)
    geom_cases.append({'imageHeight': shape[0], 'imageWidth': shape[1], 'size': size, 'auto': auto, 'scaleUp': scaleup,
                       'stride': stride, 'expected': g})
dump('letterbox_params.json', {'cases': geom_cases})


# ---------------------------------------------------------------- letterbox pixels
def letterbox_pixels(img, size, auto=False, scaleup=True, percentiles=None, pad=114):
    h, w, c = img.shape
    g = letterbox_geometry((h, w), size, auto, scaleup)
    maxv = 65535 if img.dtype == np.uint16 else 255
    colour = img[..., :3] if c == 4 else img
    if percentiles is None:
        low, high = 0.0, float(maxv)
    else:
        low, high = [float(v) for v in np.percentile(colour.ravel(), percentiles)]
    rng = high - low if high > low else 1.0
    x = torch.from_numpy(colour.astype(np.float64).transpose(2, 0, 1).copy())[None]
    if (g['newHeight'], g['newWidth']) != (h, w):
        x = F.interpolate(x, size=(g['newHeight'], g['newWidth']), mode='bilinear', align_corners=False)
    x = np.clip((x[0].numpy() - low) / rng, 0, 1)
    if x.shape[0] == 1:
        x = np.repeat(x, 3, axis=0)
    out = np.full((3, g['height'], g['width']), pad / 255, dtype=np.float64)
    out[:, g['top']:g['top'] + g['newHeight'], g['left']:g['left'] + g['newWidth']] = x
    return out.astype(np.float32), g, low, high


pix_cases = []
for (h, w, c, dtype, size, auto, scaleup, pct) in [
    (37, 23, 3, np.uint8, 24, False, True, None),
    (23, 37, 3, np.uint8, 20, True, True, None),       # auto, stride 32: no padding needed beyond 32
    (45, 61, 3, np.uint8, 40, True, True, None),       # auto: pads height to 32
    (13, 14, 1, np.uint8, 27, False, True, None),      # grey, upscale
    (31, 17, 4, np.uint8, (16, 24), False, True, None),  # RGBA, rectangular target
    (9, 7, 3, np.uint8, 16, False, False, None),       # no upscaling: copied, padded
    (40, 40, 1, np.uint16, 24, False, True, None),     # 16-bit / 65535
    (33, 29, 1, np.uint16, 24, False, True, (1, 99.8)),  # 16-bit percentile stretch
    (25, 30, 3, np.uint8, 20, False, True, (2.5, 97.5)),
    (12, 12, 3, np.uint8, 12, False, True, None),      # same size: no resize
]:
    maxv = 65535 if dtype == np.uint16 else 255
    img = rs.randint(0, maxv + 1, size=(h, w, c)).astype(dtype)
    if dtype == np.uint16:
        img = (rs.gamma(2.0, 900.0, size=(h, w, c))).clip(0, 65535).astype(np.uint16)  # microscopy-like
    out, g, low, high = letterbox_pixels(img, size, auto, scaleup, pct)
    pix_cases.append({'height': h, 'width': w, 'channels': c, 'depth': 16 if dtype == np.uint16 else 8,
                      'data': img.ravel().tolist(), 'size': size, 'auto': auto, 'scaleUp': scaleup, 'percentiles': pct,
                      'low': low, 'high': high, 'params': g, 'output': f32list(out)})
dump('letterbox_pixels.json', {'cases': pix_cases})


# ---------------------------------------------------------------- scale_boxes (YOLOv5 v7.0)
def clip_boxes(boxes, shape):
    boxes[..., 0].clamp_(0, shape[1])  # x1
    boxes[..., 1].clamp_(0, shape[0])  # y1
    boxes[..., 2].clamp_(0, shape[1])  # x2
    boxes[..., 3].clamp_(0, shape[0])  # y2


def scale_boxes(img1_shape, boxes, img0_shape, ratio_pad=None):
    if ratio_pad is None:
        gain = min(img1_shape[0] / img0_shape[0], img1_shape[1] / img0_shape[1])
        pad = (img1_shape[1] - img0_shape[1] * gain) / 2, (img1_shape[0] - img0_shape[0] * gain) / 2
    else:
        gain = ratio_pad[0][0]
        pad = ratio_pad[1]
    boxes[..., [0, 2]] -= pad[0]
    boxes[..., [1, 3]] -= pad[1]
    boxes[..., :4] /= gain
    clip_boxes(boxes, img0_shape)
    return boxes


sb_cases = []
for (img0, img1, ratio_pad) in [
    ((2048, 1000), (640, 640), None),
    ((2048, 1000), (640, 320), None),
    ((2048, 2048), (640, 640), None),
    ((1080, 1920), (384, 640), None),
    ((1080, 1920), (640, 640), None),
    ((50, 100), (640, 640), None),
    ((777, 333), (384, 640), None),
    ((480, 640), (640, 640), ((0.9, 0.9), (3.25, 81.5))),  # explicit ratio_pad
]:
    n = 60
    xy = rs.uniform(-30, max(img1) + 30, (n, 2)).astype(np.float32)
    wh = rs.uniform(0, 80, (n, 2)).astype(np.float32)
    b = np.concatenate([xy, xy + wh], 1).astype(np.float32)
    b[: n // 3] = np.round(b[: n // 3] * 4) / 4  # quarter-pixel values: exact ties after the transform
    out = scale_boxes(img1, torch.from_numpy(b.copy()), img0, ratio_pad).numpy()
    if ratio_pad is None:
        gain = min(img1[0] / img0[0], img1[1] / img0[1])
        pad = ((img1[1] - img0[1] * gain) / 2, (img1[0] - img0[0] * gain) / 2)
    else:
        gain, pad = ratio_pad[0][0], ratio_pad[1]
    sb_cases.append({'imageHeight': img0[0], 'imageWidth': img0[1], 'inputHeight': img1[0], 'inputWidth': img1[1],
                     'ratioPad': ratio_pad is not None, 'gain': gain, 'padX': pad[0], 'padY': pad[1],
                     'boxes': f32list(b), 'expected': f32list(out)})
dump('scale_boxes.json', {'cases': sb_cases})
