import math
from copy import deepcopy

import torch
import torch.nn as nn

from .modules import C2f, SPPF, Bottleneck, Concat, Conv, Detect


def make_divisible(x, divisor):
    return math.ceil(x / divisor) * divisor


def parse_model(d, ch):
    """Ultralytics' parse_model for the blocks of YOLOv8: the same modules, attributes and names."""
    nc, scales = d["nc"], d.get("scales")
    depth, width, max_channels = scales[d["scale"]] if scales else (1.0, 1.0, float("inf"))
    ch = [ch]
    layers, save, c2 = [], [], ch[-1]
    for i, (f, n, m, args) in enumerate(d["backbone"] + d["head"]):
        t = m
        m = {"Conv": Conv, "C2f": C2f, "SPPF": SPPF, "Bottleneck": Bottleneck, "Concat": Concat,
             "Detect": Detect, "nn.Upsample": nn.Upsample}[m]
        args = [nc if a == "nc" else a for a in args]
        n = max(round(n * depth), 1) if n > 1 else n
        if m in (Conv, C2f, SPPF, Bottleneck):
            c1, c2 = ch[f], args[0]
            c2 = make_divisible(min(c2, max_channels) * width, 8)
            args = [c1, c2, *args[1:]]
            if m is C2f:
                args.insert(2, n)
                n = 1
        elif m is Concat:
            c2 = sum(ch[x] for x in f)
        elif m is Detect:
            args.append([ch[x] for x in f])
        else:
            c2 = ch[f]
        m_ = nn.Sequential(*(m(*args) for _ in range(n))) if n > 1 else m(*args)
        m_.np = sum(x.numel() for x in m_.parameters())
        m_.i, m_.f, m_.type = i, f, t if t != "nn.Upsample" else "torch.nn.modules.upsampling.Upsample"
        save.extend(x % i for x in ([f] if isinstance(f, int) else f) if x != -1)
        layers.append(m_)
        if i == 0:
            ch = []
        ch.append(c2)
    return nn.Sequential(*layers), sorted(save)


class BaseModel(nn.Module):
    pass


class DetectionModel(BaseModel):
    def __init__(self, cfg, ch=3, nc=None, verbose=True):
        super().__init__()
        self.yaml = deepcopy(cfg)
        if nc and nc != self.yaml["nc"]:
            self.yaml["nc"] = nc
        self.model, self.save = parse_model(deepcopy(self.yaml), ch=ch)
        self.names = {i: f"{i}" for i in range(self.yaml["nc"])}
        self.inplace = self.yaml.get("inplace", True)
        self.end2end = False
        m = self.model[-1]
        m.stride = torch.tensor([8.0, 16.0, 32.0])
        self.stride = m.stride


# Ultralytics' other task models, for the refusal tests.
class SegmentationModel(DetectionModel):
    pass


class PoseModel(DetectionModel):
    pass
