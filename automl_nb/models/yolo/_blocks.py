"""Network blocks of the YOLOv5-style detector: CSP-Darknet backbone, PAN neck, anchor head.

The backbone is timm's ``cs3darknet_focus_{s,m,l,x}`` (Apache-2.0), a YOLOv5-style CSP
Darknet with a 6x6 stride-2 stem. Its modules are re-arranged into ten entries
``model.0`` .. ``model.9`` so that Azure's ``yolov5_backbone`` map for ``layers_to_freeze``
names real layers:

====== ============================================ ======
entry  module                                       stride
====== ============================================ ======
0      stem convolution (6x6, stride 2)             2
1, 2   stage 1: down-sampling conv, CSP blocks      4
3, 4   stage 2: down-sampling conv, CSP blocks      8 (P3)
5, 6   stage 3: down-sampling conv, CSP blocks      16 (P4)
7, 8   stage 4: down-sampling conv, CSP blocks      32
9      SPPF (spatial pyramid pooling, fast)         32 (P5)
====== ============================================ ======

Every block here is TorchScript-compatible so the network can be scripted for export.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

# Width and depth per ``model_size``: the timm backbone and the number of bottlenecks in
# each C3 block of the neck (YOLOv5's depth multiples 0.33 / 0.67 / 1.0 / 1.33 of 3).
MODEL_SIZES: dict[str, tuple[str, int]] = {
    "small": ("cs3darknet_focus_s", 1),
    "medium": ("cs3darknet_focus_m", 2),
    "large": ("cs3darknet_focus_l", 3),
    "extra_large": ("cs3darknet_focus_x", 4),
}
SIZE_ALIASES = {
    "xlarge": "extra_large",
    "s": "small",
    "m": "medium",
    "l": "large",
    "x": "extra_large",
}

STRIDES: tuple[int, int, int] = (8, 16, 32)
# The 9 COCO anchors (width, height in input pixels), 3 per level, from the YOLOv3 paper.
COCO_ANCHORS: tuple[tuple[tuple[float, float], ...], ...] = (
    ((10.0, 13.0), (16.0, 30.0), (33.0, 23.0)),
    ((30.0, 61.0), (62.0, 45.0), (59.0, 119.0)),
    ((116.0, 90.0), (156.0, 198.0), (373.0, 326.0)),
)


class ConvBnAct(nn.Module):
    """Convolution, BatchNorm and SiLU; ``same`` padding for odd kernels."""

    def __init__(self, c_in: int, c_out: int, kernel: int = 1, stride: int = 1) -> None:
        super().__init__()
        self.conv = nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False)
        self.bn = nn.BatchNorm2d(c_out)
        self.act = nn.SiLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.bn(self.conv(x)))


class Bottleneck(nn.Module):
    """1x1 then 3x3 convolution, with an optional residual connection."""

    def __init__(self, channels: int, shortcut: bool = True) -> None:
        super().__init__()
        self.cv1 = ConvBnAct(channels, channels, 1)
        self.cv2 = ConvBnAct(channels, channels, 3)
        self.shortcut = shortcut

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.cv2(self.cv1(x))
        return x + y if self.shortcut else y


class C3(nn.Module):
    """CSP block with three convolutions: half the channels go through ``depth`` bottlenecks."""

    def __init__(self, c_in: int, c_out: int, depth: int = 1, shortcut: bool = False) -> None:
        super().__init__()
        hidden = c_out // 2
        self.cv1 = ConvBnAct(c_in, hidden, 1)
        self.cv2 = ConvBnAct(c_in, hidden, 1)
        self.m = nn.Sequential(*(Bottleneck(hidden, shortcut) for _ in range(depth)))
        self.cv3 = ConvBnAct(2 * hidden, c_out, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.cv3(torch.cat([self.m(self.cv1(x)), self.cv2(x)], dim=1))


class SPPF(nn.Module):
    """Spatial pyramid pooling, fast: three chained 5x5 max-pools, concatenated."""

    def __init__(self, channels: int, kernel: int = 5) -> None:
        super().__init__()
        hidden = channels // 2
        self.cv1 = ConvBnAct(channels, hidden, 1)
        self.cv2 = ConvBnAct(hidden * 4, channels, 1)
        self.pool = nn.MaxPool2d(kernel, stride=1, padding=kernel // 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.cv1(x)
        y1 = self.pool(x)
        y2 = self.pool(y1)
        return self.cv2(torch.cat([x, y1, y2, self.pool(y2)], dim=1))


class PanNeck(nn.Module):
    """Top-down then bottom-up path aggregation over (P3, P4, P5) with C3 blocks."""

    def __init__(self, channels: tuple[int, int, int], depth: int) -> None:
        super().__init__()
        c3, c4, c5 = channels
        self.reduce5 = ConvBnAct(c5, c4, 1)
        self.top_down4 = C3(2 * c4, c4, depth)
        self.reduce4 = ConvBnAct(c4, c3, 1)
        self.top_down3 = C3(2 * c3, c3, depth)
        self.down3 = ConvBnAct(c3, c3, 3, 2)
        self.bottom_up4 = C3(2 * c3, c4, depth)
        self.down4 = ConvBnAct(c4, c4, 3, 2)
        self.bottom_up5 = C3(2 * c4, c5, depth)
        self.upsample = nn.Upsample(scale_factor=2.0, mode="nearest")

    def forward(self, p3: torch.Tensor, p4: torch.Tensor, p5: torch.Tensor) -> list[torch.Tensor]:
        r5 = self.reduce5(p5)
        t4 = self.top_down4(torch.cat([self.upsample(r5), p4], dim=1))
        r4 = self.reduce4(t4)
        out3 = self.top_down3(torch.cat([self.upsample(r4), p3], dim=1))
        out4 = self.bottom_up4(torch.cat([self.down3(out3), r4], dim=1))
        out5 = self.bottom_up5(torch.cat([self.down4(out4), r5], dim=1))
        return [out3, out4, out5]


class DetectHead(nn.Module):
    """One 1x1 convolution per level predicting, per anchor, box (4), objectness and classes.

    Output per level: raw logits ``[N, anchors, H, W, 5 + num_classes]``.
    """

    def __init__(self, channels: tuple[int, int, int], num_classes: int) -> None:
        super().__init__()
        self.num_classes = int(num_classes)
        self.num_outputs = self.num_classes + 5
        self.num_anchors = len(COCO_ANCHORS[0])
        self.register_buffer("anchors", torch.tensor(COCO_ANCHORS, dtype=torch.float32))
        self.convs = nn.ModuleList(
            nn.Conv2d(c, self.num_anchors * self.num_outputs, 1) for c in channels
        )
        self.init_biases()

    def init_biases(self, image_size: int = 640) -> None:
        """Priors: about 8 objects per image for objectness, 0.6 / classes for the classes."""
        for module, stride in zip(self.convs, STRIDES):
            conv: Any = module
            bias = conv.bias.detach().view(self.num_anchors, self.num_outputs)
            bias[:, 4] = math.log(8.0 / (image_size / stride) ** 2)
            bias[:, 5:] = math.log(0.6 / max(self.num_classes - 0.99, 0.01))
            conv.bias.data.copy_(bias.view(-1))

    def forward(self, features: list[torch.Tensor]) -> list[torch.Tensor]:
        out: list[torch.Tensor] = []
        for i, conv in enumerate(self.convs):
            y = conv(features[i])
            n, _, h, w = y.shape
            y = y.view(n, self.num_anchors, self.num_outputs, h, w).permute(0, 1, 3, 4, 2)
            out.append(y.contiguous())
        return out


class YoloNetwork(nn.Module):
    """Backbone (``model.0..9``), neck and head: normalised images in, raw level outputs out.

    The detector (:class:`~automl_nb.models.yolo._model.YOLOv5`) owns the same three modules
    under the same names; this class lets export code script just the network.
    """

    def __init__(self, model: nn.ModuleList, neck: PanNeck, head: DetectHead) -> None:
        super().__init__()
        self.model = model
        self.neck = neck
        self.head = head

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        # The detector calls this function with itself as ``self`` (same attribute names).
        taps: list[torch.Tensor] = []
        for i, layer in enumerate(self.model):
            x = layer(x)
            if i == 4 or i == 6:
                taps.append(x)
        return self.head(self.neck(taps[0], taps[1], x))


def backbone_entries(timm_backbone: nn.Module) -> nn.ModuleList:
    """timm's ``cs3darknet_focus_*`` (features_only) as the ten entries ``model.0..9``.

    Each stage's down-sampling conv becomes its own entry and is replaced by an identity
    inside the stage, so the stage's own forward runs the CSP blocks only.
    """
    children: dict[str, Any] = dict(timm_backbone.named_children())
    entries: list[nn.Module] = [children["stem_conv1"]]
    for i in range(4):
        stage = children[f"stages_{i}"]
        entries.append(stage.conv_down)
        stage.conv_down = nn.Identity()
        entries.append(stage)
    info: Any = timm_backbone.feature_info
    channels = info.channels()
    entries.append(SPPF(int(channels[-1])))
    return nn.ModuleList(entries)


def yolo_batchnorm(module: nn.Module) -> None:
    """YOLO's BatchNorm settings (eps 1e-3, momentum 0.03) for training from scratch."""
    for m in module.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.eps = 1e-3
            m.momentum = 0.03
