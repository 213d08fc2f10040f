"""The bundled vesicle detector: a tiny anchor-free CNN (cdv-v4: with the top-down neck, `neck=True`) with the YOLOv6 ONNX output layout.

Input  `images` [B, 3, 640, 640] float32 (letterboxed RGB / 255).
Output `outputs` [B, 8400, 6] = cx, cy, w, h (input pixels), objectness (constant 1.0, as YOLOv6),
class score (sigmoid); rows are the 80x80 grid of stride 8, then 40x40 (stride 16), then 20x20
(stride 32), each row-major (y, then x).

Each grid cell predicts 5 numbers: a class logit, the box centre as an offset from the cell
(`2*sigmoid(t) - 0.5` cells, so a neighbouring cell can reach a centre) and log width/height in
units of the stride (`stride * exp(t)`, t clipped to [-4, 4]).
"""
import torch
import torch.nn as nn
import torch.nn.functional as F

STRIDES = (8, 16, 32)


def conv(cin, cout, k=3, s=1, d=1):
    return nn.Sequential(
        nn.Conv2d(cin, cout, k, s, padding=d * (k // 2), dilation=d, bias=False),
        nn.BatchNorm2d(cout),
        nn.SiLU(inplace=True),
    )


class Res(nn.Module):
    def __init__(self, c, d=1):
        super().__init__()
        self.a = conv(c, c, 3, 1, d)
        self.b = conv(c, c, 3, 1, 1)

    def forward(self, x):
        return x + self.b(self.a(x))


class CdvNet(nn.Module):
    """`neck=True` (cdv-v4): a top-down path (stride 32 -> 16 -> 8, 1x1 lateral convolutions, nearest
    upsampling) and one more residual block at stride 8, so the stride-8 head sees the context that
    tells two touching vesicles from one. Its layers start at zero (the lateral convolutions and the
    block's last BatchNorm), so a network initialised from a neck-less checkpoint computes exactly that
    checkpoint's function until training moves them."""

    def __init__(self, c8=64, neck=False):
        super().__init__()
        self.neck = neck
        self.stem = nn.Sequential(
            conv(3, 16, 3, 2),  # /2
            conv(16, 32, 3, 2),  # /4
            conv(32, 32, 3, 1),
            conv(32, c8, 3, 2),  # /8
        )
        self.p3 = nn.Sequential(Res(c8, 1), Res(c8, 2))
        self.down4 = nn.Sequential(conv(c8, c8, 3, 2), conv(c8, c8, 3, 1))  # /16
        self.down5 = nn.Sequential(conv(c8, c8, 3, 2), conv(c8, c8, 3, 1))  # /32
        if neck:
            self.lat5 = nn.Conv2d(c8, c8, 1)
            self.lat4 = nn.Conv2d(c8, c8, 1)
            self.refine3 = Res(c8, 3)
            for lat in (self.lat5, self.lat4):
                nn.init.zeros_(lat.weight)
                nn.init.zeros_(lat.bias)
            nn.init.zeros_(self.refine3.b[1].weight)
        self.heads = nn.ModuleList([nn.Conv2d(c8, 5, 1) for _ in STRIDES])
        for h in self.heads:
            nn.init.constant_(h.bias, 0.0)
            h.bias.data[0] = -4.0  # rare positives: start with low scores

    def raw(self, x):
        """Per-level raw maps [B, 5, h, w] (class logit, tx, ty, tw, th)."""
        f3 = self.p3(self.stem(x))
        f4 = self.down4(f3)
        f5 = self.down5(f4)
        if self.neck:
            f4 = f4 + F.interpolate(self.lat5(f5), scale_factor=2.0, mode="nearest")
            f3 = self.refine3(f3 + F.interpolate(self.lat4(f4), scale_factor=2.0, mode="nearest"))
        return [h(f) for h, f in zip(self.heads, (f3, f4, f5))]

    def forward(self, x):
        outs = []
        for stride, r in zip(STRIDES, self.raw(x)):
            b, _, h, w = r.shape
            gy, gx = torch.meshgrid(torch.arange(h, dtype=r.dtype), torch.arange(w, dtype=r.dtype), indexing="ij")
            cx = (gx + 2 * torch.sigmoid(r[:, 1]) - 0.5) * stride
            cy = (gy + 2 * torch.sigmoid(r[:, 2]) - 0.5) * stride
            bw = torch.exp(r[:, 3].clamp(-4, 4)) * stride
            bh = torch.exp(r[:, 4].clamp(-4, 4)) * stride
            cls = torch.sigmoid(r[:, 0])
            obj = torch.ones_like(cls)
            outs.append(torch.stack([cx, cy, bw, bh, obj, cls], -1).reshape(b, h * w, 6))
        return torch.cat(outs, 1)
